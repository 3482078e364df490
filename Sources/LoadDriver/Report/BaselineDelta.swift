import Foundation

/// How much worse than the baseline a metric may get before the report calls it a regression.
public struct DeltaTolerances: Sendable, Equatable {
    /// Relative growth allowed for p50, p95 and p99 latency. Default 0.5 (+50%).
    public var latencyGrowth: Double
    /// Growth below this many milliseconds is never a regression (noise on sub-millisecond latencies). Default 1 ms.
    public var latencyFloorMs: Double
    /// Relative drop allowed for the achieved rate. Default 0.05 (-5%).
    public var achievedRateDrop: Double
    /// Absolute growth allowed for the failure rate (a fraction). Default 0.0001: failures may not grow.
    public var failureRateGrowth: Double

    public init(latencyGrowth: Double = 0.5, latencyFloorMs: Double = 1, achievedRateDrop: Double = 0.05, failureRateGrowth: Double = 0.0001) {
        self.latencyGrowth = latencyGrowth
        self.latencyFloorMs = latencyFloorMs
        self.achievedRateDrop = achievedRateDrop
        self.failureRateGrowth = failureRateGrowth
    }
}

/// One metric compared with its baseline.
package struct MetricDelta: Sendable, Equatable {
    package enum Status: String, Sendable, Equatable {
        /// Beyond the tolerance in the bad direction.
        case regression
        /// Worse by more than 5%, within tolerance (or an informational metric).
        case worse
        /// Better by more than 5%.
        case better
        case unchanged
        /// Missing on one side.
        case unavailable
    }

    package var key: String
    package var label: String
    package var baseline: Double?
    package var current: Double?
    package var format: ChartValueFormat
    package var higherIsBetter: Bool
    /// The rule applied, shown next to a regression (e.g. `at most +50%`).
    package var rule: String
    package var status: Status

    /// current / baseline - 1, `nil` when either is missing or the baseline is 0.
    package var relativeChange: Double? {
        guard let b = baseline, let c = current, b != 0 else { return nil }
        return c / b - 1
    }

    /// The change as text: relative for most metrics, in percentage points for fractions.
    package var changeText: String {
        guard let b = baseline, let c = current else { return "n/a" }
        if format == .fraction {
            let pp = (c - b) * 100
            if abs(pp) < 0.005 { return "±0 pp" }
            return String(format: "%+.2f pp", pp)
        }
        if b == 0 { return c == 0 ? "±0%" : "new" }
        return ReportFormat.relativeChange(c / b - 1)
    }
}

/// A result compared with its baseline, metric by metric.
package struct BaselineDelta: Sendable {
    package var baselineSource: String?
    package var baselineStartedAt: String
    package var metrics: [MetricDelta]

    package var regressions: [MetricDelta] { metrics.filter { $0.status == .regression } }

    package func metric(_ key: String) -> MetricDelta? { metrics.first { $0.key == key } }

    package init(current: LoadTestResult, baseline: ReportedResult, tolerances: DeltaTolerances = DeltaTolerances()) {
        self.baselineSource = baseline.source
        self.baselineStartedAt = baseline.result.startedAt
        let c = current.summary, b = baseline.result.summary
        var metrics: [MetricDelta] = []

        func latency(_ key: String, _ label: String, _ cur: Double, _ base: Double, gated: Bool) {
            var status = Self.direction(current: cur, baseline: base, higherIsBetter: false)
            if gated, base > 0, cur > base * (1 + tolerances.latencyGrowth), cur - base > tolerances.latencyFloorMs {
                status = .regression
            } else if gated, base == 0, cur > tolerances.latencyFloorMs {
                status = .regression
            }
            let rule = gated ? "at most " + ReportFormat.relativeChange(tolerances.latencyGrowth) : "informational"
            metrics.append(MetricDelta(key: key, label: label, baseline: base, current: cur, format: .milliseconds,
                                       higherIsBetter: false, rule: rule, status: status))
        }

        // Throughput.
        var achievedStatus = Self.direction(current: c.achievedRate, baseline: b.achievedRate, higherIsBetter: true)
        if b.achievedRate > 0, c.achievedRate < b.achievedRate * (1 - tolerances.achievedRateDrop) { achievedStatus = .regression }
        metrics.append(MetricDelta(key: "achievedRate", label: "Achieved rate", baseline: b.achievedRate, current: c.achievedRate,
                                   format: .requestsPerSecond, higherIsBetter: true,
                                   rule: "at most " + ReportFormat.relativeChange(-tolerances.achievedRateDrop), status: achievedStatus))
        // Failures may not grow.
        var failureStatus = Self.direction(current: c.failureRate, baseline: b.failureRate, higherIsBetter: false)
        if c.failureRate > b.failureRate + tolerances.failureRateGrowth { failureStatus = .regression }
        metrics.append(MetricDelta(key: "failureRate", label: "Failure rate", baseline: b.failureRate, current: c.failureRate,
                                   format: .fraction, higherIsBetter: false, rule: "may not grow", status: failureStatus))
        if let cur = c.latencyMs.p10, let base = b.latencyMs.p10 {
            latency("p10", "p10 (floor)", cur, base, gated: true)
        }
        latency("p50", "p50", c.latencyMs.p50, b.latencyMs.p50, gated: true)
        latency("p95", "p95", c.latencyMs.p95, b.latencyMs.p95, gated: true)
        latency("p99", "p99", c.latencyMs.p99, b.latencyMs.p99, gated: true)
        latency("p999", "p99.9", c.latencyMs.p999, b.latencyMs.p999, gated: false)
        latency("max", "max", c.latencyMs.max, b.latencyMs.max, gated: false)
        latency("serviceP95", "service time p95", c.serviceTimeMs.p95, b.serviceTimeMs.p95, gated: false)
        // Pool pressure (informational).
        let cu = current.pool?.peak["utilization"], bu = baseline.result.pool?.peak["utilization"]
        if cu != nil || bu != nil {
            let status: MetricDelta.Status = (cu != nil && bu != nil)
                ? Self.direction(current: cu!, baseline: bu!, higherIsBetter: false) : .unavailable
            metrics.append(MetricDelta(key: "poolUtilization", label: "Pool peak utilization", baseline: bu, current: cu,
                                       format: .fraction, higherIsBetter: false, rule: "informational", status: status))
        }
        self.metrics = metrics
    }

    /// better / worse / unchanged with a 5% dead band.
    static func direction(current: Double, baseline: Double, higherIsBetter: Bool) -> MetricDelta.Status {
        guard current.isFinite, baseline.isFinite else { return .unavailable }
        if current == baseline { return .unchanged }
        let reference = max(abs(baseline), 1e-9)
        let change = (current - baseline) / reference
        if abs(change) <= 0.05 { return .unchanged }
        let improved = higherIsBetter ? change > 0 : change < 0
        return improved ? .better : .worse
    }
}
