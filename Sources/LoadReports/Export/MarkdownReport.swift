import Foundation
import LoadDriver

/// A compact GitHub-flavoured Markdown summary for a CI job summary or a pull request: one table row per scenario,
/// then failed thresholds and regressions, then capacity-search conclusions.
public struct MarkdownReport: Sendable {
    public var results: [ReportedResult]
    public var baselines: [ReportedResult]
    public var capacity: [CapacityReport]
    public var title: String
    /// The regression rule for baseline deltas: the same as `loaddriver compare`'s and the test suite's gate.
    /// Default `.default`.
    public var tolerances: BaselineComparison.Tolerances

    public init(results: [ReportedResult], baselines: [ReportedResult] = [], capacity: [CapacityReport] = [],
                title: String = "Load test results", tolerances: BaselineComparison.Tolerances = .default) {
        self.results = results
        self.baselines = baselines
        self.capacity = capacity
        self.title = title
        self.tolerances = tolerances
    }

    public func render() -> String {
        let entries = HTMLReport(results: results, baselines: baselines, tolerances: tolerances).entries()
        let gated = entries.filter(\.result.isGated)
        let failed = gated.filter { !$0.result.passed }.count
        let regressions = entries.reduce(0) { $0 + ($1.delta?.regressions.count ?? 0) }
        var md = "### \(title): "
        md += failed == 0 ? "✅ all \(gated.count) passed" : "❌ \(failed) of \(gated.count) failed"
        if gated.count < entries.count { md += " (and \(entries.count - gated.count) not gated)" }
        if !baselines.isEmpty { md += regressions == 0 ? " · no regression vs baseline" : " · ⚠️ \(regressions) regression\(regressions == 1 ? "" : "s") vs baseline" }
        md += "\n\n"
        if !entries.isEmpty {
            md += "| Scenario | Verdict | Users | Requests | Success | Achieved / target | p50 | p95 | p99 | max | Pool peak | Thresholds |\n"
            md += "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
            for entry in entries {
                let r = entry.result, s = r.summary
                let rate = ReportFormat.grouped(s.achievedRate) + (s.targetRate.map { " / " + ReportFormat.grouped($0) } ?? "") + " req/s"
                let cells = [
                    cell(r.scenario.name),
                    r.verdict == .passed ? "✅ pass" : r.verdict == .failed ? "❌ **fail**" : r.verdict.label.lowercased(),
                    ReportFormat.count(r.scenario.users),
                    ReportFormat.count(s.requests),
                    withDelta(ReportFormat.percent(s.successRate), entry.delta?.metric("failureRate")),
                    withDelta(rate, entry.delta?.metric("achievedRate")),
                    withDelta(ReportFormat.ms(s.latencyMs.p50), entry.delta?.metric("p50Ms")),
                    withDelta(ReportFormat.ms(s.latencyMs.p95), entry.delta?.metric("p95Ms")),
                    withDelta(ReportFormat.ms(s.latencyMs.p99), entry.delta?.metric("p99Ms")),
                    ReportFormat.ms(s.latencyMs.max),
                    ReportFormat.percent(r.pool?.peak[PoolField.utilization]),
                    "\(r.thresholds.filter(\.ok).count)/\(r.thresholds.count)",
                ]
                md += "| " + cells.joined(separator: " | ") + " |\n"
            }
            md += "\n"
        }
        var problems: [String] = []
        for entry in entries {
            let name = entry.result.scenario.name
            for t in entry.result.thresholds where !t.ok && entry.result.isGated {
                let actual = ReportFormat.thresholdValue(t.actual, expression: t.expression)
                problems.append("- **\(cell(name))**: threshold `\(t.expression.replacingOccurrences(of: "`", with: "'"))` failed (actual \(actual)\(t.note.map { "; " + cell($0) } ?? ""))")
            }
            for m in entry.delta?.regressions ?? [] {
                problems.append("- **\(cell(name))**: \(m.label) regressed \(m.changeText) (baseline \(m.format.value(m.baseline ?? .nan)), now \(m.format.value(m.current ?? .nan)); \(m.rule))")
            }
            if let note = entry.delta?.machineNote, !(entry.delta?.regressions.isEmpty ?? true) {
                problems.append("- **\(cell(name))**: note: \(cell(note))")
            }
            if let limit = entry.result.driver.limitSummary {
                problems.append("- **\(cell(name))**: \(cell(limit)) — latencies include that delay")
            }
        }
        if !problems.isEmpty {
            md += problems.joined(separator: "\n") + "\n\n"
        }
        for report in capacity {
            md += "**Capacity search** (\(cell(report.mix)) on \(report.target)): \(cell(report.conclusion))\n\n"
            md += "| # | Target | Achieved | p95 | p99 | Failed | Result |\n|--:|--:|--:|--:|--:|--:|---|\n"
            for s in report.steps {
                md += "| \(s.index) | \(ReportFormat.rate(s.targetRate)) | \(ReportFormat.rate(s.achievedRate)) | \(ReportFormat.ms(s.latencyMs.p95)) | \(ReportFormat.ms(s.latencyMs.p99)) | \(ReportFormat.percent(s.failureRate)) | \(s.passed ? "held" : "broke: " + cell(s.reasons.joined(separator: "; "))) |\n"
            }
            md += "\n"
        }
        return md
    }

    /// A value with its baseline change in parentheses, bold when it is a regression.
    private func withDelta(_ value: String, _ delta: MetricDelta?) -> String {
        guard let delta else { return value }
        switch delta.status {
        case .regression: return "\(value) (**\(delta.changeText)** ⚠️)"
        case .unavailable: return value
        default: return "\(value) (\(delta.changeText))"
        }
    }

    /// Text safe inside a table cell.
    private func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
