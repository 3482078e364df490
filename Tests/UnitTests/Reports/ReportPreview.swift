import AuthScenarios
import Foundation
import LoadDriver
import LoadReports
import Testing

/// Writes a report to look at (with `scripts/report-screenshot`) when `REPORT_PREVIEW=<out.html>` is set: from the
/// results in `REPORT_PREVIEW_INPUT` (directories or files, `:`-separated) or, without it, from the fixtures; with
/// `REPORT_PREVIEW_BASELINE` as baseline. Skipped otherwise.
@Suite struct ReportPreview {
    static let environment = ProcessInfo.processInfo.environment

    @Test(.enabled(if: environment["REPORT_PREVIEW"] != nil, "set REPORT_PREVIEW=<out.html> to write a preview"))
    func writePreview() throws {
        let output = try #require(Self.environment["REPORT_PREVIEW"])
        var results: [ReportedResult]
        var capacity: [CapacityReport] = []
        if let input = Self.environment["REPORT_PREVIEW_INPUT"], !input.isEmpty {
            let inputs = try ReportLoader.load(input.split(separator: ":").map(String.init))
            results = inputs.results
            capacity = inputs.capacity
        } else {
            results = [ReportFixtures.quick(), ReportFixtures.result(name: "Baseline", seed: 1),
                       ReportFixtures.result(name: "Stress", users: 1000, latencyScale: 1.6, seed: 2)].map { ReportedResult(result: $0) }
        }
        var baselines: [ReportedResult] = []
        if let baseline = Self.environment["REPORT_PREVIEW_BASELINE"], !baseline.isEmpty {
            baselines = try ReportLoader.load([baseline]).results
        }
        let html = HTMLReport(results: results, baselines: baselines, capacity: capacity).render()
        try Data(html.utf8).write(to: URL(fileURLWithPath: output))
        if output.hasSuffix(".html") {
            let md = MarkdownReport(results: results, baselines: baselines, capacity: capacity).render()
            try Data(md.utf8).write(to: URL(fileURLWithPath: String(output.dropLast(5)) + ".md"))
        }
    }
}
