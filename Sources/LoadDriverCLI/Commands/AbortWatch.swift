import LoadDriver
import Synchronization

/// `--abort-on`: checks each live progress against the rule and remembers what triggered it, for the result.
final class AbortWatch: Sendable {
    let rule: AbortRule
    private let fired = Mutex<ThresholdResult?>(nil)

    init(_ rule: AbortRule) {
        self.rule = rule
    }

    /// True once the rule holds (and from then on).
    func check(_ progress: RunProgress) -> Bool {
        guard let reason = self.rule.reason(for: progress) else { return self.triggered != nil }
        self.fired.withLock { fired in
            if fired == nil {
                fired = ThresholdResult(
                    expression: "abort-on: " + self.rule.condition.expression, actual: self.rule.actual(in: progress),
                    limit: self.rule.condition.normalizedLimit, ok: false, note: reason)
            }
        }
        return true
    }

    /// The failed check recorded in the result when the rule stopped the run.
    var triggered: ThresholdResult? { self.fired.withLock { $0 } }
}
