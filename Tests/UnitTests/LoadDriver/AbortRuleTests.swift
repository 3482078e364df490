import Histogram
import LoadDriver
import Testing

/// `--abort-on`: the condition on a run's live progress that stops it early.
@Suite("Abort rule")
struct AbortRuleTests {
    static func progress(at seconds: Double, requests: Int, errors: Int, latenciesMs: [UInt64] = [], pool: [String: Double]? = nil)
        -> RunProgress
    {
        var progress = RunProgress(
            elapsedSeconds: seconds, plannedSeconds: 30, inWarmUp: false, requests: requests, errors: errors,
            windowRate: Double(latenciesMs.count), targetRate: 100, windowP95Ms: nil, poolFields: pool)
        if !latenciesMs.isEmpty {
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for ms in latenciesMs { _ = histogram.record(ms * 1000) }
            progress.window = histogram
        }
        return progress
    }

    @Test func failureRateTriggersOnlyAfterTheGrace() throws {
        let rule = try AbortRule(expression: "failureRate > 50%", graceSeconds: 5)
        #expect(rule.reason(for: Self.progress(at: 3, requests: 100, errors: 90)) == nil, "inside the grace")
        #expect(rule.reason(for: Self.progress(at: 6, requests: 100, errors: 40)) == nil, "40% is not > 50%")
        let reason = try #require(rule.reason(for: Self.progress(at: 6, requests: 100, errors: 60)))
        #expect(reason.contains("failureRate > 50%") && reason.contains("0.6"), "\(reason)")
        #expect(rule.reason(for: Self.progress(at: 6, requests: 0, errors: 0)) == nil, "nothing known yet")
    }

    @Test func latencyRateAndPoolReadTheLiveWindow() throws {
        let slow = Self.progress(at: 10, requests: 100, errors: 0, latenciesMs: Array(repeating: 10, count: 90) + Array(repeating: 3_000, count: 10))
        #expect(try AbortRule(expression: "p(95) > 2s").reason(for: slow) != nil)
        #expect(try AbortRule(expression: "p(50) > 2s").reason(for: slow) == nil)
        #expect(try AbortRule(expression: "max >= 3000ms").reason(for: slow) != nil)
        // 100 completions in the window against a target of 100 req/s: achieved 100%.
        #expect(try AbortRule(expression: "achievedRate < 50%").reason(for: slow) == nil)
        #expect(try AbortRule(expression: "achievedRate < 500").reason(for: slow) != nil)
        let pool = Self.progress(at: 10, requests: 1, errors: 0, pool: ["utilization": 0.97])
        #expect(try AbortRule(expression: "pool.utilization > 95%").reason(for: pool) != nil)
        #expect(try AbortRule(expression: "pool.waiters > 0").reason(for: pool) == nil, "a field never polled is unknown")
    }

    @Test(arguments: ["verify.p(99) > 1s", "serviceTime.p(95) > 1s", "late > 10", "stddev > 5ms", "p(95) >"])
    func metricsKnownOnlyAtTheEndAreRejected(expression: String) {
        #expect(throws: ThresholdError.self) { try AbortRule(expression: expression) }
    }
}
