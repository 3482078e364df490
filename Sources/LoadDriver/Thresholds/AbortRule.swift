import Foundation

/// Stops a run early when a condition on its live progress holds (`loaddriver run --abort-on`), like k6's
/// `abortOnFail`: the expression is the abort condition, e.g. `failureRate > 50%` or `p(95) > 2s`.
///
/// What a live run knows: `failureRate`, `successRate`, `requests`, `failed` (so far, warm-up included),
/// `achievedRate` (req/s, or `%` of the target, over the last progress window), `p(N)`, `min`, `max`, `mean` of the
/// corrected latency over the last window, and `pool.X` from the last pool poll. Per-endpoint and `serviceTime.`
/// metrics are only known at the end, so they are rejected here.
public struct AbortRule: Sendable, Equatable {
    public let condition: Threshold
    /// The condition is not evaluated during the first `graceSeconds` of the load. Default 5 s.
    public let graceSeconds: Double

    public init(expression: String, graceSeconds: Double = 5) throws(ThresholdError) {
        let condition = try Threshold(parsing: expression)
        switch condition.metric {
        case .request(endpoint: .some, serviceTime: _, aggregate: _), .request(endpoint: _, serviceTime: true, aggregate: _):
            throw ThresholdError(
                expression: expression, position: 0,
                message: "--abort-on applies to the whole run's live figures: per-endpoint and serviceTime metrics are known only at the end")
        case .request(_, _, .late), .request(_, _, .dropped), .request(_, _, .succeeded), .request(_, _, .stddev):
            throw ThresholdError(
                expression: expression, position: 0,
                message: "--abort-on knows failureRate, successRate, requests, failed, achievedRate, p(N), min, max, mean and pool.X")
        default:
            break
        }
        self.condition = condition
        self.graceSeconds = graceSeconds
    }

    /// The live value of the condition's metric; `nil` while it is not known yet (no request in the window, no poll).
    public func actual(in progress: RunProgress) -> Double? {
        switch self.condition.metric {
        case .pool(let field):
            return progress.poolFields?[field]
        case .request(_, _, let aggregate):
            switch aggregate {
            case .failureRate: return progress.requests > 0 ? Double(progress.errors) / Double(progress.requests) : nil
            case .successRate: return progress.requests > 0 ? 1 - Double(progress.errors) / Double(progress.requests) : nil
            case .requests: return Double(progress.requests)
            case .failed: return Double(progress.errors)
            case .achievedRate:
                guard let rate = progress.windowRate else { return nil }
                guard self.condition.unit == .percent else { return rate }
                guard let target = progress.targetRate, target > 0 else { return nil }
                return rate / target
            case .percentile(let p): return progress.windowLatencyMs(percentile: p)
            case .min: return progress.windowLatencyMs(percentile: 0)
            case .max: return progress.windowLatencyMs(percentile: 100)
            case .mean: return progress.windowMeanMs
            case .late, .dropped, .succeeded, .stddev: return nil
            }
        }
    }

    /// Why the run must stop now, or `nil` to go on.
    public func reason(for progress: RunProgress) -> String? {
        guard progress.elapsedSeconds >= self.graceSeconds, let actual = self.actual(in: progress) else { return nil }
        let limit = self.condition.normalizedLimit
        guard self.condition.comparison.holds(actual, limit) else { return nil }
        return "abort-on \(self.condition.expression): actual \(Self.format(actual)) at \(Int(progress.elapsedSeconds)) s"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int64(value)) : String(format: "%.4g", value)
    }
}
