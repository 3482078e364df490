import Foundation
import LoadDriver

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
    /// ``BaselineComparison/machineNote``: set when the two machines' loopback speeds differ by more than 1.5x.
    package var machineNote: String?

    package var regressions: [MetricDelta] { metrics.filter { $0.status == .regression } }

    package func metric(_ key: String) -> MetricDelta? { metrics.first { $0.key == key } }

    /// The gated rows are exactly ``BaselineComparison``'s metrics with the same `tolerances`, so the report marks a
    /// regression where `loaddriver compare` and the test suite's gate fail and nowhere else; p99.9, max, service time
    /// and pool utilization are shown for information.
    package init(
        current: LoadTestResult, baseline: ReportedResult,
        tolerances: BaselineComparison.Tolerances = .default
    ) {
        self.baselineSource = baseline.source
        self.baselineStartedAt = baseline.result.startedAt
        let comparison = BaselineComparison(current: current, baseline: baseline.result, tolerances: tolerances)
        var metrics: [MetricDelta] = []

        for m in comparison.metrics {
            let (label, format) = Self.presentation(of: m.metric)
            let higherIsBetter = !m.higherIsWorse
            let status = m.regression
                ? MetricDelta.Status.regression
                : Self.direction(current: m.current, baseline: m.baseline, higherIsBetter: higherIsBetter)
            let rule = (m.higherIsWorse ? "at most " : "at least ") + format.value(m.allowed)
            metrics.append(MetricDelta(key: m.metric, label: label, baseline: m.baseline, current: m.current,
                                       format: format, higherIsBetter: higherIsBetter, rule: rule, status: status))
        }

        func informational(_ key: String, _ label: String, _ cur: Double?, _ base: Double?, _ format: ChartValueFormat) {
            guard cur != nil || base != nil else { return }
            let status: MetricDelta.Status = if let cur, let base {
                Self.direction(current: cur, baseline: base, higherIsBetter: false)
            } else {
                .unavailable
            }
            metrics.append(MetricDelta(key: key, label: label, baseline: base, current: cur, format: format,
                                       higherIsBetter: false, rule: "informational", status: status))
        }
        let c = current.summary, b = baseline.result.summary
        informational("p999Ms", "p99.9", c.latencyMs.p999, b.latencyMs.p999, .milliseconds)
        informational("maxMs", "max", c.latencyMs.max, b.latencyMs.max, .milliseconds)
        informational("serviceTime.p95Ms", "service time p95", c.serviceTimeMs.p95, b.serviceTimeMs.p95, .milliseconds)
        informational("pool.utilization", "Pool peak utilization", current.pool?.peak[PoolField.utilization],
                      baseline.result.pool?.peak[PoolField.utilization], .fraction)
        self.metrics = metrics
        self.machineNote = comparison.machineNote
    }

    /// Label and unit of a ``BaselineComparison`` metric (`p95Ms`, `verify.p99Ms`, `failureRate`, `achievedRate`).
    static func presentation(of metric: String) -> (label: String, format: ChartValueFormat) {
        switch metric {
        case "achievedRate": return ("Achieved rate", .requestsPerSecond)
        case "failureRate": return ("Failure rate", .fraction)
        case "p10Ms": return ("p10 (floor)", .milliseconds)
        case "p50Ms": return ("p50", .milliseconds)
        case "p95Ms": return ("p95", .milliseconds)
        case "p99Ms": return ("p99", .milliseconds)
        default:
            if metric.hasSuffix(".p99Ms") { return (String(metric.dropLast(".p99Ms".count)) + " p99", .milliseconds) }
            return (metric, .milliseconds)
        }
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
