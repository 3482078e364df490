import AuthScenarios
import Foundation
import Histogram
import LoadDriver
import LoadReports
import Testing

/// `loaddriver report --format markdown`: a compact table for CI job summaries and pull requests.
@Suite struct MarkdownExport {
    @Test func oneRowPerScenarioAndTheFailuresListed() {
        let results = [ReportFixtures.quick(), ReportFixtures.result(name: "Baseline", seed: 1)]
        let md = MarkdownReport(results: results.map { ReportedResult(result: $0) }).render()
        let lines = md.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("### Load test results: ❌ 1 of 2 failed"))
        let table = lines.filter { $0.hasPrefix("|") }
        #expect(table.count == 2 + results.count, "header, separator, one row per scenario")
        #expect(table[0].contains("| p95 |"))
        #expect(table[2].hasPrefix("| QuickValidation | ✅ pass |"))
        #expect(table[3].hasPrefix("| Baseline | ❌ **fail** |"))
        let columns = table[0].split(separator: "|").count
        for row in table { #expect(row.split(separator: "|", omittingEmptySubsequences: false).count - 2 == columns, "\(row)") }
        #expect(md.contains("- **Baseline**: threshold `pool.utilization < 50%` failed (actual 100%)"))
    }

    @Test func regressionsAgainstTheBaselineAreMarked() {
        let baseline = ReportFixtures.result(name: "Stress", stall: false, seed: 3)
        let current = ReportFixtures.result(name: "Stress", latencyScale: 3, stall: false, seed: 3)
        let md = MarkdownReport(results: [ReportedResult(result: current)], baselines: [ReportedResult(result: baseline)]).render()
        let compare = BaselineComparison(current: current, baseline: baseline)
        #expect(Set(compare.regressions).isSuperset(of: ["p10Ms", "p50Ms", "p95Ms", "p99Ms"]))
        #expect(md.contains("⚠️ \(compare.regressions.count) regressions vs baseline"), "what `loaddriver compare` fails on")
        #expect(md.contains("⚠️)"), "a regressed cell is marked")
        #expect(md.contains("- **Stress**: p95 regressed +"))
    }

    /// The report and `loaddriver compare` (and the suite's gate) apply one rule: the report marks as regressions
    /// exactly the metrics the comparison fails, for any tolerance set.
    @Test(arguments: [("default", 1.6), ("default", 2.5), ("shared-machine", 1.6), ("shared-machine", 2.5), ("shared-machine", 12)])
    func reportAndCompareAgree(tolerances name: String, latencyScale: Double) throws {
        let tolerances = try #require(BaselineComparison.Tolerances.presets[name])
        let baseline = ReportFixtures.result(name: "Stress", stall: false, seed: 3)
        let current = ReportFixtures.result(name: "Stress", latencyScale: latencyScale, stall: false, seed: 3)
        let compare = BaselineComparison(current: current, baseline: baseline, tolerances: tolerances)
        let report = HTMLReport(results: [ReportedResult(result: current)], baselines: [ReportedResult(result: baseline)],
                                tolerances: tolerances)
        let delta = try #require(report.entries().first?.delta)
        #expect(delta.regressions.map(\.key).sorted() == compare.regressions.sorted())
        for m in compare.metrics { #expect(delta.metric(m.metric) != nil, "every compared metric has a row: \(m.metric)") }
    }

    @Test func aDriverLimitedRunReadsWithoutNestedBrackets() {
        var result = ReportFixtures.result(name: "PoolExhaustion", stall: false, seed: 4)
        result.driver.driverLimited = true
        result.driver.driverLimitedReason = nil  // an older result: the lag rule's text
        result.driver.schedulingLagMs.p99 = 19.6
        let md = MarkdownReport(results: [ReportedResult(result: result)]).render()
        #expect(md.contains("- **PoolExhaustion**: driver-limited: scheduling lag p99 19.6 ms (bound 10.0 ms) — latencies include that delay"))
        #expect(!md.contains("))"))
    }

    @Test func capacitySearchIsSummarised() async throws {
        let report = try await CapacitySearchLogic.report(knee: 4000, growth: .step(1000))
        let md = MarkdownReport(results: [], capacity: [report]).render()
        #expect(md.contains("**Capacity search**"))
        #expect(md.contains("| 1 | 1,000 req/s |"))
        #expect(md.contains("broke: p(95) < 50ms"))
    }
}

/// The `.hgrm` export: HdrHistogram's percentile-distribution text format.
@Suite struct HgrmExportFormat {
    @Test func matchesHdrHistogramsOwnOutput() throws {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var random = ReportFixtures.Random(state: 9)
        for _ in 0..<20_000 { _ = histogram.record(UInt64(500 + random.next() * random.next() * 40_000)) }
        _ = histogram.record(1_250_000)
        var result = ReportFixtures.result(seed: 9)
        result.latencyDistribution = histogram.percentileDistribution()
        result.summary.latencyMs = LatencyStats(microseconds: histogram)

        var expected = ""
        histogram.outputPercentileDistribution(to: &expected, outputValueUnitScalingRatio: 1000)
        let text = try #require(HgrmExport.text(for: result))
        #expect(text == expected)
    }

    @Test func layoutOfTheFile() throws {
        let result = ReportFixtures.result(seed: 4)
        let text = try #require(HgrmExport.text(for: result))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "       Value     Percentile TotalCount 1/(1-Percentile)")
        #expect(lines[1] == "")
        let rows = lines.dropFirst(2).filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(rows.count == result.latencyDistribution.count)
        var previous = (value: 0.0, percentile: 0.0, count: 0)
        for (i, row) in rows.enumerated() {
            let fields = row.split(separator: " ").map(String.init)
            let isLast = i == rows.count - 1
            #expect(fields.count == (isLast ? 3 : 4), "\(row)")
            let value = try #require(Double(fields[0])), percentile = try #require(Double(fields[1])), count = try #require(Int(fields[2]))
            #expect(value >= previous.value && percentile >= previous.percentile && count >= previous.count)
            #expect((0...1).contains(percentile))
            if !isLast {
                let inverse = try #require(Double(fields[3]))
                #expect(abs(inverse - 1 / (1 - percentile)) <= max(0.01, inverse * 1e-6))
            }
            previous = (value, percentile, count)
        }
        #expect(previous.percentile == 1)
        #expect(lines.contains { $0.hasPrefix("#[Mean    = ") })
        #expect(lines.contains { $0.hasPrefix("#[Max     = ") && $0.contains("Total count    = ") })
        #expect(lines.contains("#[Buckets =           22, SubBuckets     =         2048]"))
        #expect(HgrmExport.fileName(for: ReportedResult(result: result, source: "/r/load_test_Baseline_500users_20261129_044500.json"))
                == "load_test_Baseline_500users_20261129_044500.hgrm")
    }

    @Test func noDistributionNoFile() {
        var result = ReportFixtures.quick()
        result.latencyDistribution = []
        #expect(HgrmExport.text(for: result) == nil)
    }
}

/// Finding results in directories and files.
@Suite struct ReportLoading {
    @Test func directoriesFilesDuplicatesAndStrangers() throws {
        let dir = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = ReportFixtures.result(name: "Baseline", seed: 1), b = ReportFixtures.result(name: "Stress", seed: 30)
        _ = try ReportFixtures.write(b, to: dir, name: "load_test_Stress.json")
        _ = try ReportFixtures.write(a, to: dir, name: "load_test_Baseline.json")
        _ = try ReportFixtures.write(a, to: dir, name: "copy_of_baseline.json")  // same run twice: kept once
        // A document of another kind (like scripts/perf's pool_comparison.json) and a broken result.
        try Data("{\"scenario\": \"Stress\", \"p95Speedup\": 1.5}".utf8).write(to: dir.appendingPathComponent("pool_comparison.json"))
        try Data("{\"schemaVersion\": 1, \"runId\": \"x\"}".utf8).write(to: dir.appendingPathComponent("truncated.json"))
        try Data("not json".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let attachments = dir.appendingPathComponent("attachments")
        try FileManager.default.createDirectory(at: attachments, withIntermediateDirectories: true)
        _ = try ReportFixtures.write(ReportFixtures.quick(), to: attachments, name: "quick.json")  // not recursed into

        let inputs = try ReportLoader.load([dir.path])
        #expect(inputs.results.map(\.result.scenario.name) == ["Baseline", "Stress"], "ordered by start time")
        #expect(inputs.skipped.count == 1, "only the broken result is worth a warning: \(inputs.skipped)")
        #expect(inputs.skipped.first?.contains("truncated.json") == true)
        #expect(inputs.skipped.first?.contains("missing") == true)
        #expect(inputs.ignored.map { URL(fileURLWithPath: $0).lastPathComponent } == ["pool_comparison.json"])
        // Named explicitly, the same document is reported as not a result.
        let named = try ReportLoader.load([dir.appendingPathComponent("pool_comparison.json").path])
        #expect(named.ignored.isEmpty)
        #expect(named.skipped.first?.contains("no schemaVersion") == true)

        let explicit = try ReportLoader.load([attachments.appendingPathComponent("quick.json").path])
        #expect(explicit.results.count == 1)
        #expect(throws: ReportError.self) { try ReportLoader.load([dir.appendingPathComponent("absent.json").path]) }
    }

    @Test func baselineMatchesByScenarioName() {
        let current = ReportFixtures.result(name: "Stress", users: 1000, seed: 5)
        let baselines = [
            ReportedResult(result: ReportFixtures.result(name: "Baseline", seed: 6)),
            ReportedResult(result: ReportFixtures.result(name: "stress", users: 1000, seed: 7)),
            ReportedResult(result: ReportFixtures.result(name: "STRESS", users: 10, seed: 8)),
        ]
        #expect(ReportLoader.baseline(for: current, in: baselines)?.result.runId == baselines[1].result.runId)
    }
}

/// `loaddriver report --csv-dir`: the per-second series, one row per second.
@Suite struct TimeSeriesCSVExport {
    @Test func oneRowPerSecondWithThePoolColumns() throws {
        var result = ReportFixtures.result(name: "Baseline", seed: 1)
        result.timeSeries[0].pool = ["utilization": 0.25, "admission.waiting": 3]
        result.timeSeries[0].targetRate = nil
        result.timeSeries[1].pool = nil
        let csv = TimeSeriesCSV.text(for: result)
        let rows = csv.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.count == result.timeSeries.count + 1)
        let header = rows[0].map(String.init)
        #expect(Array(header.prefix(3)) == ["second", "warmUp", "requests"])
        #expect(header.contains("pool.admission.waiting") && header.contains("pool.utilization"))
        for row in rows { #expect(row.count == header.count) }
        let first = rows[1].map(String.init)
        #expect(first[0] == String(result.timeSeries[0].second))
        #expect(first[2] == String(result.timeSeries[0].requests))
        #expect(first[header.firstIndex(of: "targetRate")!] == "")
        #expect(first[header.firstIndex(of: "pool.utilization")!] == "0.25")
        #expect(first[header.firstIndex(of: "pool.admission.waiting")!] == "3")
        #expect(rows[2][header.firstIndex(of: "pool.utilization")!] == "")
    }
}
