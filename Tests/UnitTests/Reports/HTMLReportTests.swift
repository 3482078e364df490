import AuthScenarios
import Foundation
import LoadDriver
import LoadReports
import Testing

/// The HTML report's structure, checked without a browser: well-formed page and SVGs, every chart with data for
/// every scenario, thresholds, summary table, baseline deltas.
@Suite struct HTMLReportStructure {
    static let baseline = ReportFixtures.result(name: "Baseline", seed: 1)
    static let stress = ReportFixtures.result(name: "Stress", users: 1000, seed: 2,
                                              thresholds: ["successRate > 98%", "p(95) < 800ms", "pool.utilization < 60%", "achievedRate >= 95%"])
    static let quick = ReportFixtures.quick()

    static func page(_ results: [LoadTestResult], baselines: [LoadTestResult] = []) throws -> (html: String, root: XMLElementNode) {
        let html = HTMLReport(
            results: results.map { ReportedResult(result: $0, source: "/tmp/load_test_\($0.scenario.name).json") },
            baselines: baselines.map { ReportedResult(result: $0, source: "/baselines/\($0.scenario.name).json") },
            generatedAt: Date(timeIntervalSince1970: 1_800_000_000)
        ).render()
        return (html, try XMLTree.parse(html))
    }

    static func section(_ root: XMLElementNode, scenario: String) throws -> XMLElementNode {
        try #require(root.all("section") { $0.hasClass("scenario") && $0.attributes["data-scenario"] == scenario }.first)
    }

    @Test func pageAndEverySVGAreWellFormedXML() throws {
        let (html, _) = try Self.page([Self.quick, Self.baseline, Self.stress])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let fragments = svgFragments(in: html)
        #expect(ScenarioCharts.ids.count == 6, "throughput, latency, pool, cpu, errors, distribution")
        #expect(fragments.count == 3 * ScenarioCharts.ids.count)
        for fragment in fragments {
            let svg = try XMLTree.parse(fragment)
            #expect(svg.name == "svg")
            #expect(svg.attributes["xmlns"] == "http://www.w3.org/2000/svg")
            #expect(svg.attributes["viewBox"] != nil)
            #expect(!svg.all("title").isEmpty, "every chart has an accessible title")
        }
    }

    @Test func everyChartIsPresentWithDataForEachScenario() throws {
        let (_, root) = try Self.page([Self.baseline, Self.stress])
        for scenario in ["Baseline", "Stress"] {
            let section = try Self.section(root, scenario: scenario)
            for id in ScenarioCharts.ids {
                let figure = try #require(section.all("figure") { $0.attributes["data-chart"] == id }.first, "\(scenario): chart \(id) missing")
                let svg = try #require(figure.all("svg").first)
                #expect(svg.attributes["data-empty"] == "false", "\(scenario): chart \(id) is empty")
                let caption = figure.all("figcaption").first?.allText ?? ""
                #expect(caption.count > 20, "\(scenario): chart \(id) has a caption")
                if id == "errors" {
                    let bars = svg.all("rect") { $0.hasClass("bar") }
                    #expect(Set(bars.compactMap { $0.attributes["data-series"] }) == ["timeout", "http5xx"], "\(scenario): errors by kind")
                } else {
                    let series = svg.all("path") { $0.hasClass("series") }
                    #expect(!series.isEmpty)
                    for path in series {
                        #expect(Int(path.attributes["data-points"] ?? "0")! > 0, "\(scenario)/\(id): series \(path.attributes["data-series"] ?? "?") has no points")
                        #expect((path.attributes["d"] ?? "").hasPrefix("M"))
                    }
                }
            }
            // The charts show what the spec asks for.
            func seriesNames(_ id: String) throws -> Set<String> {
                let figure = try #require(section.all("figure") { $0.attributes["data-chart"] == id }.first)
                return Set(figure.all("path") { $0.hasClass("series") }.compactMap { $0.attributes["data-series"] })
            }
            #expect(try seriesNames("throughput").isSuperset(of: ["target", "achieved"]))
            #expect(try seriesNames("latency") == ["p50", "p95", "p99"])
            #expect(try seriesNames("pool") == ["inUse", "waiters"])
            #expect(try seriesNames("cpu") == ["machine busy", "this process", "steal"])
            #expect(try seriesNames("distribution") == [scenario])
        }
    }

    /// A fault scenario's events (e.g. Redis killed and restarted) show as a table and as a vertical line on every
    /// per-second chart, at their load second; the distribution, which has no time axis, has none.
    @Test func eventsAreMarkedOnEveryPerSecondChart() throws {
        var outage = ReportFixtures.result(name: "RedisRestart", seed: 3)
        outage.events = [
            RunEvent(name: "redis killed", atSeconds: 12.05, detail: "SIGKILL"),
            RunEvent(name: "redis restarted", atSeconds: 15.1),
        ]
        let (_, root) = try Self.page([outage, Self.baseline])
        let section = try Self.section(root, scenario: "RedisRestart")
        let table = try #require(section.all("table") { $0.hasClass("events") }.first)
        let rows = table.all("tr").dropFirst().map(\.allText)
        #expect(rows.count == 2)
        #expect(rows.first?.contains("redis killed") == true && rows.first?.contains("SIGKILL") == true)
        for id in ScenarioCharts.ids {
            let svg = try #require(section.all("svg") { $0.attributes["data-chart"] == id }.first)
            let markers = svg.all("g") { $0.hasClass("marker") }.compactMap { $0.attributes["data-marker"] }
            #expect(markers == (id == "distribution" ? [] : ["redis killed", "redis restarted"]), "chart \(id): \(markers)")
        }
        let plain = try Self.section(root, scenario: "Baseline")
        #expect(plain.all("g") { $0.hasClass("marker") }.isEmpty)
        #expect(plain.all("table") { $0.hasClass("events") }.isEmpty)
    }

    @Test func distributionUsesTheNinesAxis() throws {
        let (_, root) = try Self.page([Self.baseline])
        let figure = try #require(root.all("figure") { $0.attributes["data-chart"] == "distribution" }.first)
        let labels = figure.all("text").map(\.allText)
        for label in ["0%", "90%", "99%", "99.9%", "99.99%"] {
            #expect(labels.contains(label), "nines tick \(label)")
        }
    }

    @Test func chartsOfAClosedLoopRunWithoutPoolOrErrorsSayWhy() throws {
        let (_, root) = try Self.page([Self.quick])
        let section = try Self.section(root, scenario: "QuickValidation")
        let pool = try #require(section.all("svg") { $0.attributes["data-chart"] == "pool" }.first)
        #expect(pool.attributes["data-empty"] == "true")
        #expect(pool.all("text") { $0.hasClass("empty-message") }.first?.allText.contains("no pool samples") == true)
        let throughput = try #require(section.all("svg") { $0.attributes["data-chart"] == "throughput" }.first)
        #expect(throughput.attributes["data-empty"] == "false")
        #expect(!throughput.all("path").contains { $0.attributes["data-series"] == "target" }, "closed loop has no target")
        // No error: the errors chart still shows the run's seconds, as a zero line.
        let errors = try #require(section.all("figure") { $0.attributes["data-chart"] == "errors" }.first)
        let svg = try #require(errors.all("svg").first)
        #expect(svg.attributes["data-empty"] == "false")
        #expect(svg.all("text") { $0.hasClass("empty-message") }.isEmpty)
        let zero = try #require(svg.all("path") { $0.hasClass("series") }.first)
        #expect(zero.attributes["data-series"] == "0 errors")
        #expect(zero.attributes["data-points"] == String(Self.quick.timeSeries.count))
        #expect(errors.all("figcaption").first?.allText.contains("No request failed") == true)
    }

    @Test func headerShowsVerdictAndEveryThresholdWithActualAndLimit() throws {
        let (_, root) = try Self.page([Self.baseline, Self.stress])
        for result in [Self.baseline, Self.stress] {
            let section = try Self.section(root, scenario: result.scenario.name)
            let verdict = try #require(section.all("span") { $0.hasClass("verdict") }.first)
            #expect(verdict.allText == (result.passed ? "PASS" : "FAIL"))
            let table = try #require(section.all("table") { $0.hasClass("thresholds") }.first)
            let rows = table.all("tr").filter { $0.parent?.name == "tbody" }
            #expect(rows.count == result.thresholds.count)
            for (row, threshold) in zip(rows, result.thresholds) {
                let cells = row.children.map(\.allText)
                #expect(cells[0] == threshold.expression)
                #expect(cells[1] != "–", "actual shown for \(threshold.expression)")
                #expect(cells[3] == (threshold.ok ? "pass" : "fail"))
                #expect(row.hasClass(threshold.ok ? "pass" : "fail"))
            }
        }
        // The fixture's stall saturates the pool: pool.utilization < 50% fails.
        #expect(!Self.baseline.passed)
    }

    /// The page's verdict is the runs' own: a reference run (measured to compare, not gated) and an attempt replaced
    /// by a re-measurement fail nothing, and a late driver on a saturated machine is called machine-limited.
    @Test func verdictCountsOnlyGatedRunsAndNamesTheMachineLimit() throws {
        var passing = Self.quick
        #expect(passing.passed)
        var reference = Self.baseline
        reference.role = .reference
        var superseded = Self.baseline
        superseded.scenario.name = "Baseline-first"
        superseded.role = .superseded
        #expect(!reference.passed && reference.verdict == .reference && superseded.verdict == .superseded)
        #expect(reference.summaryTable().contains("RESULT: REFERENCE"))
        #expect(superseded.summaryTable().contains("RESULT: RE-MEASURED"))
        passing.driver.driverLimited = true
        passing.driver.driverLimitedReason = "scheduling lag p99 10.9 ms (bound 10.0 ms)"
        passing.driver.loopCPUPercent = [47]
        passing.driver.driverLimitedLoopCPUPercent = 90
        passing.driver.machine = MachineCPUReport(cpus: 2, busyPercent: 90.4, stealPercent: 1)
        #expect(passing.driver.machineLimited)
        let (html, root) = try Self.page([passing, reference, superseded])
        let header = try #require(root.all("header").first)
        #expect(header.allText.contains("ALL PASSED"), "\(header.allText)")
        #expect(header.allText.contains("2 not gated"))
        let badges = try [passing, reference, superseded].map { result in
            try #require(try Self.section(root, scenario: result.scenario.name).all("span") { $0.hasClass("verdict") }.first).allText
        }
        #expect(badges == ["PASS", "REFERENCE", "RE-MEASURED"])
        #expect(html.contains("machine-limited"))
        #expect(!html.contains("<strong>driver-limited</strong>"))

        let markdown = MarkdownReport(results: [passing, reference, superseded].map { ReportedResult(result: $0, source: nil) }).render()
        #expect(markdown.contains("✅ all 1 passed (and 2 not gated)"), "\(markdown.prefix(200))")
        #expect(!markdown.contains("threshold `pool.utilization"), "a reference's thresholds are figures, not failures")
        #expect(markdown.contains("machine-limited: the machine's CPUs were 90% busy; scheduling lag p99 10.9 ms (bound 10.0 ms)"))
        #expect(!markdown.contains("))"))

        var failing = Self.baseline
        failing.role = .gated
        let (_, failedRoot) = try Self.page([passing, failing])
        #expect(try #require(failedRoot.all("header").first).allText.contains("1 OF 2 FAILED"))
    }

    @Test func summaryTableHasOneRowPerScenario() throws {
        let (_, root) = try Self.page([Self.quick, Self.baseline, Self.stress])
        let table = try #require(root.all("table") { $0.hasClass("summary") }.first)
        let rows = table.all("tr").filter { $0.parent?.name == "tbody" }
        #expect(rows.map { $0.attributes["data-scenario"] ?? "" } == ["QuickValidation", "Baseline", "Stress"])
        let headers = table.all("th").map(\.allText)
        for column in ["Scenario", "Verdict", "Requests", "Success", "Achieved", "p95", "p99", "Pool peak"] {
            #expect(headers.contains(column))
        }
        // Links to each scenario's section.
        let anchors = Set(root.all("section") { $0.hasClass("scenario") }.compactMap { $0.attributes["id"] })
        for row in rows {
            let href = try #require(row.all("a").first?.attributes["href"])
            #expect(anchors.contains(String(href.dropFirst())))
        }
    }

    @Test func statusCodeAndErrorTablesWithSamples() throws {
        let (html, root) = try Self.page([Self.baseline])
        let section = try Self.section(root, scenario: "Baseline")
        let codes = try #require(section.all("table") { $0.hasClass("status-codes") }.first)
        #expect(codes.all("td").map(\.allText).contains("503"))
        let samples = try #require(section.all("table") { $0.hasClass("error-samples") }.first)
        let kinds = Set(samples.all("tr").filter { $0.parent?.name == "tbody" }.map { $0.children[1].allText })
        #expect(kinds == ["timeout", "http5xx"])
        // Sample details are text, never markup.
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;"))
    }

    @Test func baselineDeltasHighlightRegressions() throws {
        let baseline = ReportFixtures.result(name: "Baseline", stall: false, seed: 1)
        let current = ReportFixtures.result(name: "Baseline", latencyScale: 3, stall: false, seed: 1)
        let (_, root) = try Self.page([current], baselines: [baseline])
        let section = try Self.section(root, scenario: "Baseline")
        let deltas = try #require(section.all("table") { $0.hasClass("deltas") }.first)
        func row(_ metric: String) -> XMLElementNode? { deltas.all("tr") { $0.attributes["data-metric"] == metric }.first }
        #expect(row("p95Ms")?.hasClass("regression") == true)
        #expect(row("p50Ms")?.hasClass("regression") == true)
        #expect(row("failureRate")?.hasClass("regression") == false)
        // The summary flags it too, and the distribution overlays the baseline.
        let summary = try #require(root.all("table") { $0.hasClass("summary") }.first)
        #expect(summary.all("td") { $0.hasClass("regression") }.first?.allText.contains("regression") == true)
        #expect(summary.all("span") { $0.hasClass("delta") && $0.hasClass("regression") }.count >= 2)
        let distribution = try #require(section.all("figure") { $0.attributes["data-chart"] == "distribution" }.first)
        #expect(distribution.all("path").contains { $0.attributes["data-series"] == "baseline" })
    }

    @Test func sameRunAsBaselineHasNoRegression() throws {
        let (_, root) = try Self.page([Self.stress], baselines: [Self.stress])
        let section = try Self.section(root, scenario: "Stress")
        let deltas = try #require(section.all("table") { $0.hasClass("deltas") }.first)
        #expect(deltas.all("tr") { $0.hasClass("regression") }.isEmpty)
        #expect(section.all("h3").contains { $0.allText.contains("no regression") })
    }

    @Test func selfContainedWithoutScriptsOrNetwork() throws {
        let (html, root) = try Self.page([Self.baseline, Self.quick])
        #expect(!html.contains("<script"))
        #expect(root.all("link").isEmpty)
        #expect(root.all("img").isEmpty)
        // The only URLs are XML namespace names.
        var rest = html[...]
        while let r = rest.range(of: "https?://", options: .regularExpression) {
            let url = rest[r.lowerBound...].prefix { $0 != "\"" }
            #expect(url == "http://www.w3.org/2000/svg" || url == "http://www.w3.org/1999/xhtml", "unexpected URL \(url)")
            rest = rest[r.upperBound...]
        }
    }
}

/// Errors per second by kind, derived from per-second totals, counts per kind and the kept samples.
@Suite struct ErrorKindsOverTime {
    static func result(errorsPerSecond: [Int: Int], counts: [String: Int], samples: [ErrorSample]) -> LoadTestResult {
        var r = ReportFixtures.result(seconds: 10, warmUp: 0, stall: false, seed: 11)
        for i in r.timeSeries.indices { r.timeSeries[i].errors = errorsPerSecond[r.timeSeries[i].second] ?? 0 }
        r.errors = ErrorReport(total: counts.values.reduce(0, +), counts: counts, samples: samples, setupFailures: 0, warmUpFailures: 0)
        return r
    }

    @Test func kindsWhoseEverySampleWasKeptArePlacedExactly() {
        // 3 timeouts (all kept as samples, in seconds 2 and 5) and 40 503s (10 kept, all in second 5).
        let samples = [ErrorSample(kind: .timeout, atSeconds: 2.1, endpoint: "verify", detail: ""),
                       ErrorSample(kind: .timeout, atSeconds: 5.2, endpoint: "verify", detail: ""),
                       ErrorSample(kind: .timeout, atSeconds: 5.3, endpoint: "verify", detail: "")]
            + (0..<10).map { ErrorSample(kind: .http5xx, atSeconds: 5 + Double($0) / 20, endpoint: "login", detail: "") }
        let r = Self.result(errorsPerSecond: [2: 1, 5: 22, 6: 20], counts: ["timeout": 3, "http5xx": 40], samples: samples)
        let timeline = ErrorTimeline(result: r)
        #expect(timeline.perKind["timeout"] == [2: 1, 5: 2])
        #expect(timeline.perKind["http5xx"] == [5: 20, 6: 20])
        #expect(!timeline.isEstimated, "one open kind: the rest of each second can only be http5xx")
        #expect(timeline.layers.map(\.name) == ["timeout", "http5xx"])
    }

    @Test func severalOpenKindsAreApportionedAndFlaggedAsEstimated() {
        let r = Self.result(errorsPerSecond: [3: 10], counts: ["timeout": 50, "http5xx": 150], samples: [])
        let timeline = ErrorTimeline(result: r)
        #expect(timeline.perKind["timeout"]?[3] == 2.5 || timeline.perKind["timeout"]?[3] == 3 || timeline.perKind["timeout"]?[3] == 2)
        #expect((timeline.perKind["timeout"]?[3] ?? 0) + (timeline.perKind["http5xx"]?[3] ?? 0) == 10)
        #expect(timeline.isEstimated)
        #expect(ErrorTimeline.apportion(10, weights: ["a": 1, "b": 1, "c": 1], order: ["a", "b", "c"]).map(\.1).reduce(0, +) == 10)
    }
}

/// Errors per second by kind as the driver recorded them, and the fallback for results written before it did.
@Suite struct RecordedErrorKinds {
    static func errorsChart(_ result: LoadTestResult) throws -> RenderedChart {
        try #require(ScenarioCharts(result: result).all().first { $0.id == "errors" })
    }

    /// Bar tooltips, e.g. `http5xx: 20 in second 5`.
    static func bars(_ chart: RenderedChart) throws -> [String] {
        try XMLTree.parse(chart.svg).all("rect") { $0.hasClass("bar") }.map { $0.all("title").first?.allText ?? "" }
    }

    @Test func recordedKindsAreShownAsRecorded() throws {
        // Derived from the samples (three of the four timeouts, all in second 5) and the counts, second 2's error
        // would be taken for a 503 and all of second 5's for timeouts: the recorded counts say otherwise, and win.
        let samples = (0..<3).map { ErrorSample(kind: .timeout, atSeconds: 5.1 + Double($0) / 10, endpoint: "verify", detail: "") }
        var r = ErrorKindsOverTime.result(errorsPerSecond: [2: 1, 5: 22], counts: ["timeout": 4, "http5xx": 19], samples: samples)
        let derived = ErrorTimeline(result: r)
        #expect(derived.basis == .derived)
        #expect(derived.perKind["http5xx"]?[2] == 1 && derived.perKind["timeout"]?[5] == 22, "what the estimate makes of it")
        r.timeSeries[2].errorsByKind = ["timeout": 1]
        r.timeSeries[5].errorsByKind = ["timeout": 3, "http5xx": 19]
        let timeline = ErrorTimeline(result: r)
        #expect(timeline.basis == .recorded)
        #expect(!timeline.isEstimated)
        #expect(timeline.perKind == ["timeout": [2: 1, 5: 3], "http5xx": [5: 19]])
        let chart = try Self.errorsChart(r)
        #expect(!chart.isEmpty)
        #expect(chart.caption.contains("as recorded"))
        #expect(!chart.caption.contains("estimated"))
        #expect(Set(try Self.bars(chart)) == ["timeout: 1 in second 2", "timeout: 3 in second 5", "http5xx: 19 in second 5"])
    }

    @Test func anOlderResultWithoutKindsPerSecondLoadsAndIsLabelledAsDerived() throws {
        let current = ReportFixtures.result(name: "Baseline", seed: 1)
        #expect(current.timeSeries.contains { $0.errorsByKind != nil })
        // The same result as an older driver wrote it: no errorsByKind anywhere.
        var object = try #require(try JSONSerialization.jsonObject(with: current.jsonData()) as? [String: Any])
        let points = try #require(object["timeSeries"] as? [[String: Any]])
        object["timeSeries"] = points.map { $0.filter { $0.key != "errorsByKind" } }
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(!String(decoding: old, as: UTF8.self).contains("errorsByKind"))
        let dir = try ReportFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try old.write(to: dir.appendingPathComponent("load_test_Baseline.json"))

        let inputs = try ReportLoader.load([dir.path])
        #expect(inputs.skipped.isEmpty && inputs.ignored.isEmpty)
        let decoded = try #require(inputs.results.first?.result)
        #expect(decoded.timeSeries.allSatisfy { $0.errorsByKind == nil })
        #expect(decoded.timeSeries.map(\.errors) == current.timeSeries.map(\.errors))

        let timeline = ErrorTimeline(result: decoded)
        #expect(timeline.basis == .derived)
        for point in decoded.timeSeries {
            let placed = timeline.perKind.values.reduce(0) { $0 + ($1[point.second] ?? 0) }
            #expect(placed == Double(point.errors), "second \(point.second): the totals stay exact")
        }
        let chart = try Self.errorsChart(decoded)
        #expect(!chart.isEmpty)
        #expect(chart.caption.contains("predates per-second counts by kind"))
        #expect(Set(try Self.bars(chart).map { String($0.prefix { $0 != ":" }) }) == ["timeout", "http5xx"])
        // The page renders it like any other result.
        _ = try XMLTree.parse(HTMLReport(results: inputs.results).render())
    }
}
