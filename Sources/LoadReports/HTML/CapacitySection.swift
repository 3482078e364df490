import Foundation
import LoadDriver

/// The page section for a capacity search: its conclusion, two charts over the step rates and the step table.
struct CapacitySection {
    let report: CapacityReport

    /// Achieved vs target rate per step, and latency percentiles per step with the latency threshold limits.
    func charts() -> [RenderedChart] {
        let steps = report.steps.sorted { $0.targetRate < $1.targetRate }
        let failing = steps.filter { !$0.passed }
        func pts(_ s: [CapacityStep], _ y: (CapacityStep) -> Double) -> [ChartPoint] { s.map { ChartPoint(x: $0.targetRate, y: y($0)) } }
        let ideal = steps.isEmpty ? [] : [ChartPoint(x: steps.first!.targetRate, y: steps.first!.targetRate),
                                          ChartPoint(x: steps.last!.targetRate, y: steps.last!.targetRate)]
        let throughput = LineChart(
            id: "capacity-throughput", title: "Achieved vs asked rate per step", xTitle: "target rate (req/s)",
            yTitle: "achieved (req/s)", xAxis: .linear(unit: ""), yFormat: .requestsPerSecond,
            series: [
                ChartSeries(name: "target", color: ChartPalette.lightGray, points: ideal, dashed: true),
                ChartSeries(name: "achieved", color: ChartPalette.blue, points: pts(steps) { $0.achievedRate }, markers: true),
                ChartSeries(name: "failed step", color: ChartPalette.red, segments: failing.map { [ChartPoint(x: $0.targetRate, y: $0.achievedRate)] }, markers: true),
            ],
            emptyMessage: "no steps ran")
        var references: [ReferenceLine] = []
        for expression in report.thresholds {
            guard let t = try? Threshold(parsing: expression), case .request(nil, false, .percentile) = t.metric else { continue }
            references.append(ReferenceLine(value: t.normalizedLimit, label: expression))
        }
        let latency = LineChart(
            id: "capacity-latency", title: "Latency per step", xTitle: "target rate (req/s)", yTitle: "latency (ms)",
            xAxis: .linear(unit: ""), yFormat: .milliseconds,
            series: [
                ChartSeries(name: "p50", color: ChartPalette.green, points: pts(steps) { $0.latencyMs.p50 }, markers: true),
                ChartSeries(name: "p95", color: ChartPalette.orange, points: pts(steps) { $0.latencyMs.p95 }, markers: true),
                ChartSeries(name: "p99", color: ChartPalette.red, points: pts(steps) { $0.latencyMs.p99 }, markers: true),
            ],
            references: references, emptyMessage: "no steps ran")
        return [
            RenderedChart(id: throughput.id, title: throughput.title, caption: "Each dot is one step (a constant arrival rate held for its duration); red dots broke a threshold.", svg: throughput.render(), isEmpty: throughput.isEmpty),
            RenderedChart(id: latency.id, title: latency.title, caption: "Corrected latency of each step's measured window; dashed lines are latency thresholds.", svg: latency.render(), isEmpty: latency.isEmpty),
        ]
    }

    func render(_ html: inout HTMLText) {
        let r = report
        html.raw("<section class=\"capacity card\" id=\"capacity\" data-capacity=\"\(h(r.target))\">\n")
        html.raw("<div class=\"scenario-head\"><h2>Capacity search</h2>")
        html.raw(r.highestPassingRate.map { "<span class=\"verdict pass\">held \(h(ReportFormat.rate($0)))</span>" } ?? "<span class=\"verdict fail\">no rate held</span>")
        html.raw("</div>\n<p class=\"conclusion\">\(h(r.conclusion))</p>\n")
        let facts = ["target \(r.target)", "mix: \(r.mix)", "\(ReportFormat.count(r.users)) users", r.strategy,
                     "\(r.steps.count) steps in \(ReportFormat.duration(r.elapsedSeconds))", "started \(r.startedAt)"]
        html.raw("<p class=\"facts\">\(facts.map(h).joined(separator: " · "))</p>\n")
        html.raw("<p class=\"facts\">Thresholds: \(r.thresholds.map { "<code>\(h($0))</code>" }.joined(separator: ", "))</p>\n")
        html.raw("<div class=\"charts\">\n")
        for chart in charts() {
            html.raw("<figure class=\"chart-card\" data-chart=\"\(h(chart.id))\" data-empty=\"\(chart.isEmpty)\">\n<h4>\(h(chart.title))</h4>\n\(chart.svg)\n<figcaption>\(h(chart.caption))</figcaption>\n</figure>\n")
        }
        html.raw("</div>\n<h3>Steps</h3>\n<div class=\"scroll\"><table class=\"capacity-steps\"><thead><tr>")
        for c in ["#", "Phase", "Target", "Achieved", "Requests", "Failed", "p50", "p95", "p99", "max", "Late", "Pool peak", "Result", "Why"] {
            html.raw("<th>\(c)</th>")
        }
        html.raw("</tr></thead><tbody>\n")
        for s in r.steps {
            html.raw("<tr class=\"\(s.passed ? "pass" : "fail")\"><td class=\"num\">\(s.index)</td><td>\(s.phase.rawValue)</td>")
            html.raw("<td class=\"num\">\(h(ReportFormat.rate(s.targetRate)))</td><td class=\"num\">\(h(ReportFormat.rate(s.achievedRate)))</td>")
            html.raw("<td class=\"num\">\(ReportFormat.count(s.requests))</td><td class=\"num\">\(h(ReportFormat.percent(s.failureRate)))</td>")
            for v in [s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.p99, s.latencyMs.max] { html.raw("<td class=\"num\">\(h(ReportFormat.ms(v)))</td>") }
            html.raw("<td class=\"num\">\(ReportFormat.count(s.late))</td><td class=\"num\">\(h(ReportFormat.percent(s.poolPeakUtilization)))</td>")
            html.raw("<td>\(s.passed ? "<span class=\"verdict pass\">held</span>" : "<span class=\"verdict fail\">broke</span>")</td>")
            html.raw("<td class=\"note\">\(h(s.reasons.joined(separator: "; ")))\(s.resultFile.map { "<br /><code>\(h($0))</code>" } ?? "")</td></tr>\n")
        }
        html.raw("</tbody></table></div>\n</section>\n")
    }
}
