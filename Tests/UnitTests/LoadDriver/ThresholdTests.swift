import LoadDriver
import Testing

@Suite("LoadDriver thresholds")
struct ThresholdTests {
    @Test(arguments: [
        ("p(95) < 500ms", 500.0),
        ("p(99.9)<1s", 1000.0),
        ("max < 2s", 2000.0),
        ("mean <= 250us", 0.25),
        ("p(95)<500", 500.0),
        ("failureRate < 1%", 0.01),
        ("successRate > 99%", 0.99),
        ("achievedRate >= 95%", 0.95),
        ("achievedRate >= 4750", 4750.0),
        ("pool.utilization < 50%", 0.5),
        ("pool.peakWaiters < 10", 10.0),
        ("verify.p(99) < 50ms", 50.0),
        ("  verify.serviceTime.p(99)   <   50 ms ", 50.0),
    ])
    func parsesValidExpressions(expression: String, limit: Double) throws {
        let t = try Threshold(parsing: expression)
        #expect(abs(t.normalizedLimit - limit) < 1e-9)
    }

    @Test func parsesStructure() throws {
        let t = try Threshold(parsing: "verify.p(99) < 50ms")
        #expect(t.metric == .request(endpoint: "verify", serviceTime: false, aggregate: .percentile(99)))
        #expect(t.comparison == .less)
        #expect(t.unit == .milliseconds)
        let p = try Threshold(parsing: "pool.stats.waiters >= 3")
        #expect(p.metric == .pool(field: "stats.waiters"))
        #expect(p.comparison == .greaterOrEqual)
    }

    @Test(arguments: [
        ("", 0, "empty"),
        ("foo < 1", 0, "unknown metric"),
        ("p(95 < 5ms", 5, "expected ')'"),
        ("p(101) < 1s", 2, "percentile"),
        ("p(95) ~ 5ms", 6, "operator"),
        ("p(95) =< 5ms", 6, "unknown operator"),
        ("p(95) < ", 8, "expected a number"),
        ("p(95) < 5kg", 9, "unknown unit"),
        ("p(95) < 5%", 9, "time unit"),
        ("failureRate < 5ms", 15, "rate limit"),
        ("requests > 5%", 12, "count takes no unit"),
        ("pool. < 1", 5, "expected a name"),
        ("p(95) < 500ms extra", 14, "unexpected text"),
        ("verify.p(99).max < 1s", 0, "last part"),
    ])
    func rejectsInvalidExpressions(expression: String, position: Int, message: String) {
        #expect {
            _ = try Threshold(parsing: expression)
        } throws: { error in
            guard let e = error as? ThresholdError else { return false }
            return e.position == position && e.message.contains(message) && e.description.contains("^")
        }
    }

    @Test func evaluatesAgainstAResult() throws {
        var result = SampleResults.make()
        try result.applyThresholds([
            "p(95) < 30ms", "p(50) < 10ms", "failureRate < 1%", "successRate > 99%", "achievedRate >= 95%",
            "achievedRate >= 990", "pool.utilization < 50%", "pool.waiters < 1", "verify.p(99) < 50ms",
            "missing.p(99) < 1s", "pool.nope < 1", "late == 3", "serviceTime.p(95) < 20ms",
        ])
        let byExpr = Dictionary(uniqueKeysWithValues: result.thresholds.map { ($0.expression, $0) })
        #expect(byExpr["p(95) < 30ms"]?.ok == true)
        #expect(byExpr["p(95) < 30ms"]?.actual == 25)
        #expect(byExpr["p(50) < 10ms"]?.ok == false)
        #expect(byExpr["failureRate < 1%"]?.ok == true)
        #expect(byExpr["successRate > 99%"]?.ok == true)
        #expect(abs((byExpr["achievedRate >= 95%"]?.actual ?? 0) - 0.99) < 1e-9)
        #expect(byExpr["achievedRate >= 95%"]?.ok == true)
        #expect(byExpr["achievedRate >= 990"]?.ok == true)
        #expect(byExpr["pool.utilization < 50%"]?.actual == 0.4)
        #expect(byExpr["pool.utilization < 50%"]?.ok == true)
        #expect(byExpr["pool.waiters < 1"]?.ok == false)
        #expect(byExpr["verify.p(99) < 50ms"]?.ok == true)
        #expect(byExpr["missing.p(99) < 1s"]?.ok == false)
        #expect(byExpr["missing.p(99) < 1s"]?.actual == nil)
        #expect(byExpr["pool.nope < 1"]?.note?.contains("utilization") == true)
        #expect(byExpr["late == 3"]?.ok == true)
        #expect(byExpr["serviceTime.p(95) < 20ms"]?.ok == true)
        #expect(result.passed == false)
    }

    @Test func baselineComparisonFlagsRegressions() {
        let baseline = SampleResults.make()
        var small = baseline
        small.summary.latencyMs.p95 = baseline.summary.latencyMs.p95 * 1.4
        #expect(BaselineComparison(current: small, baseline: baseline).passed)

        var worse = baseline
        worse.summary.latencyMs.p99 = baseline.summary.latencyMs.p99 * 2
        worse.summary.failureRate = baseline.summary.failureRate + 0.002
        worse.summary.achievedRate = baseline.summary.achievedRate * 0.9
        let c = BaselineComparison(current: worse, baseline: baseline)
        #expect(!c.passed)
        #expect(Set(c.regressions) == ["p99Ms", "failureRate", "achievedRate"])
        #expect(c.table().contains("REGRESSION"))

        var subMs = baseline
        subMs.summary.latencyMs.p95 = 0.2
        var subMsCurrent = subMs
        subMsCurrent.summary.latencyMs.p95 = 1.5  // +650%, but only 1.3 ms: within the 2 ms slack
        #expect(BaselineComparison(current: subMsCurrent, baseline: subMs).passed)
    }

    /// The floor (p10) catches a constant added delay that the median's looser tolerance lets through; results
    /// without p10 (older files) are compared without it.
    @Test func latencyFloorCatchesAConstantAddedDelay() {
        var baseline = SampleResults.make()
        baseline.summary.latencyMs.p10 = 1.40
        baseline.summary.latencyMs.p50 = 2.47
        var noisy = baseline  // a clean run in a noisy phase: the median moved, the floor hardly
        noisy.summary.latencyMs.p10 = 1.48
        noisy.summary.latencyMs.p50 = 4.79
        #expect(BaselineComparison(current: noisy, baseline: baseline).passed)
        var delayed = baseline  // 2 ms added to every Redis call
        delayed.summary.latencyMs.p10 = 3.70
        delayed.summary.latencyMs.p50 = 4.85
        let c = BaselineComparison(current: delayed, baseline: baseline)
        #expect(c.regressions == ["p10Ms"])
        #expect(abs((c.metrics.first { $0.metric == "p10Ms" }?.allowed ?? 0) - 2.6) < 1e-9)
        var older = baseline
        older.summary.latencyMs.p10 = nil
        #expect(!BaselineComparison(current: delayed, baseline: older).metrics.contains { $0.metric == "p10Ms" })
    }
}
