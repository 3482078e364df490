import AuthScenarios
import Foundation
import LoadDriver
import LoadReports
import Testing

/// The capacity search's section of the HTML report, checked without a browser: well-formed, its conclusion and the
/// highest rate that held, both charts with data, one table row per step.
@Suite struct CapacitySectionStructure {
    static func page(_ reports: [CapacityReport], results: [LoadTestResult] = []) throws -> (html: String, root: XMLElementNode) {
        let html = HTMLReport(
            results: results.map { ReportedResult(result: $0) }, capacity: reports,
            generatedAt: Date(timeIntervalSince1970: 1_800_000_000)
        ).render()
        return (html, try XMLTree.parse(html))
    }

    static func section(_ root: XMLElementNode) throws -> XMLElementNode {
        try #require(root.all("section") { $0.hasClass("capacity") }.first)
    }

    @Test func sectionShowsTheHighestRateHeldChartsAndEveryStep() async throws {
        // Steps up 1,000 .. 5,000 req/s, 5,000 breaks p(95) < 50ms, bisects to 4,880 (see CapacitySearchLogic).
        let report = try await CapacitySearchLogic.report(knee: 4000, growth: .step(1000))
        let held = try #require(report.highestPassingRate)
        let (html, root) = try Self.page([report], results: [ReportFixtures.quick()])
        for fragment in svgFragments(in: html) { _ = try XMLTree.parse(fragment) }
        let section = try Self.section(root)
        #expect(section.attributes["id"] == "capacity")
        #expect(section.attributes["data-capacity"] == report.target)
        #expect(section.all("h2").first?.allText == "Capacity search")
        #expect(root.all("nav").first?.all("a").contains { $0.attributes["href"] == "#capacity" } == true, "linked from the header")

        // The answer: the highest rate held, and the conclusion.
        let verdict = try #require(section.all("span") { $0.hasClass("verdict") }.first)
        #expect(verdict.hasClass("pass"))
        #expect(verdict.allText == "held \(ReportFormat.rate(held))")
        #expect(verdict.allText == "held 4,880 req/s")
        #expect(section.all("p") { $0.hasClass("conclusion") }.first?.allText == report.conclusion)
        #expect(section.all("code").map(\.allText).starts(with: report.thresholds))

        // Two charts over the step rates, with data.
        let figures = section.all("figure")
        #expect(figures.compactMap { $0.attributes["data-chart"] } == ["capacity-throughput", "capacity-latency"])
        for figure in figures {
            let svg = try #require(figure.all("svg").first)
            #expect(svg.attributes["data-empty"] == "false")
            #expect((figure.all("figcaption").first?.allText.count ?? 0) > 20)
        }
        func points(_ chart: String, _ series: String) -> Int? {
            figures.first { $0.attributes["data-chart"] == chart }?
                .all("path") { $0.attributes["data-series"] == series }.first
                .flatMap { Int($0.attributes["data-points"] ?? "") }
        }
        #expect(points("capacity-throughput", "achieved") == report.steps.count)
        #expect(points("capacity-throughput", "failed step") == report.steps.filter { !$0.passed }.count)
        for p in ["p50", "p95", "p99"] { #expect(points("capacity-latency", p) == report.steps.count) }
        let latency = try #require(figures.last)
        #expect(latency.all("text").contains { $0.allText == "p(95) < 50ms" }, "the latency threshold is drawn")

        // One row per step, in the order they ran.
        let table = try #require(section.all("table") { $0.hasClass("capacity-steps") }.first)
        let headers = table.all("th").map(\.allText)
        #expect(headers.first == "#" && headers.contains("Target") && headers.contains("Achieved") && headers.contains("Result"))
        let rows = table.all("tr").filter { $0.parent?.name == "tbody" }
        #expect(rows.count == report.steps.count)
        for (row, step) in zip(rows, report.steps) {
            let cells = row.children.map(\.allText)
            #expect(cells.count == headers.count)
            #expect(cells[0] == String(step.index))
            #expect(cells[1] == step.phase.rawValue)
            #expect(cells[2] == ReportFormat.rate(step.targetRate))
            #expect(row.hasClass(step.passed ? "pass" : "fail"))
            #expect(cells[12] == (step.passed ? "held" : "broke"))
            if !step.passed { #expect(cells[13].contains("p(95) < 50ms")) }
        }
        let heldRow = try #require(rows.first { $0.children[2].allText == ReportFormat.rate(held) })
        #expect(heldRow.hasClass("pass"))
        #expect(rows.filter { $0.hasClass("pass") }.map { $0.children[2].allText }.contains(ReportFormat.rate(held)))
    }

    @Test func aSearchWhereNothingHeldSaysSo() async throws {
        var configuration = CapacitySearchLogic.configuration(.step(1000), start: 6000)
        configuration.minimumRate = 2000
        let report = try await CapacitySearch(configuration, probe: KneeProbe(knee: 0)).run()
        #expect(report.highestPassingRate == nil)
        let (_, root) = try Self.page([report])
        let section = try Self.section(root)
        let verdict = try #require(section.all("span") { $0.hasClass("verdict") }.first)
        #expect(verdict.hasClass("fail"))
        #expect(verdict.allText == "no rate held")
        let rows = try #require(section.all("table") { $0.hasClass("capacity-steps") }.first).all("tr").filter { $0.parent?.name == "tbody" }
        #expect(rows.count == report.steps.count)
        #expect(rows.allSatisfy { $0.hasClass("fail") })
    }
}
