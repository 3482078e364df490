import Foundation
import LoadDriver

/// The part of the page for one result: header and verdict, key figures, thresholds, baseline deltas, charts, tables.
struct ScenarioSection {
    let entry: ReportEntry
    let maxSamplesShown: Int

    private var result: LoadTestResult { entry.result }

    func render(_ html: inout HTMLText) {
        let r = result
        html.raw("<section class=\"scenario card \(HTMLReport.verdictClass(r))\" id=\"\(h(entry.anchor))\" data-scenario=\"\(h(r.scenario.name))\">\n")
        head(&html)
        kpis(&html)
        thresholds(&html)
        if let delta = entry.delta { deltas(&html, delta) }
        events(&html)
        charts(&html)
        html.raw("<div class=\"tables\">\n")
        endpoints(&html)
        statusCodes(&html)
        html.raw("</div>\n")
        errors(&html)
        html.raw("<div class=\"tables\">\n")
        pool(&html)
        driver(&html)
        html.raw("</div>\n")
        environment(&html)
        html.raw("</section>\n")
    }

    private func head(_ html: inout HTMLText) {
        let r = result
        html.raw("<div class=\"scenario-head\"><h2>\(h(r.scenario.name))</h2>\(HTMLReport.verdictBadge(r))</div>\n")
        var facts = [
            "\(ReportFormat.count(r.scenario.users)) users",
            ScenarioDescription.load(r.scenario),
            ScenarioDescription.length(r.scenario, measuredSeconds: r.summary.measuredSeconds),
        ]
        let mix = ScenarioDescription.mix(r.scenario)
        if !mix.isEmpty { facts.append("mix: " + mix) }
        facts.append("target \(r.environment.target)")
        facts.append("started \(r.startedAt)")
        html.raw("<p class=\"facts\">\(facts.map(h).joined(separator: " · "))</p>\n")
        if r.driver.machineLimited {
            let busy = Int((r.driver.machine?.busyPercent ?? 0).rounded())
            html.raw("<p class=\"warning\"><strong>Machine-limited:</strong> the CPUs were \(busy)% busy, shared by the target and the driver, so sends left late; \(h(r.driver.limitDescription)).</p>\n")
        } else if r.driver.driverLimited {
            html.raw("<p class=\"warning\"><strong>Driver-limited:</strong> \(h(r.driver.limitDescription)): latencies include driver delay, do not blame the server for them.</p>\n")
        }
        switch r.verdict {
        case .reference:
            html.raw("<p class=\"muted\">A reference run, measured for comparison and not gated: its thresholds are figures, not a verdict.</p>\n")
        case .superseded:
            html.raw("<p class=\"muted\">An attempt replaced by a re-measurement of the same scenario, which decided.</p>\n")
        case .passed, .failed:
            break
        }
        if r.environment.buildConfiguration == "debug" || r.environment.extra["serverBuildConfiguration"] == "debug" {
            html.raw("<p class=\"warning\">Debug build: figures are several times worse than a release build's.</p>\n")
        }
        if let source = entry.reported.source {
            html.raw("<p class=\"source\">\(h((source as NSString).lastPathComponent))</p>\n")
        }
    }

    private func kpis(_ html: inout HTMLText) {
        let s = result.summary
        var tiles: [(String, String, String?)] = [
            ("Requests", ReportFormat.count(s.requests), s.failed > 0 ? "\(ReportFormat.count(s.failed)) failed" : "none failed"),
            ("Success rate", ReportFormat.percent(s.successRate), nil),
            ("Achieved", ReportFormat.rate(s.achievedRate), s.targetRate.map { "target " + ReportFormat.rate($0) }),
            ("p50", ReportFormat.ms(s.latencyMs.p50), nil),
            ("p95", ReportFormat.ms(s.latencyMs.p95), nil),
            ("p99", ReportFormat.ms(s.latencyMs.p99), "p99.9 " + ReportFormat.ms(s.latencyMs.p999)),
            ("max", ReportFormat.ms(s.latencyMs.max), "mean " + ReportFormat.ms(s.latencyMs.mean)),
        ]
        if let util = result.pool?.peak[PoolField.utilization] {
            tiles.append(("Pool peak", ReportFormat.percent(util), result.pool?.peak[PoolField.waiters].map { "waiters " + ReportFormat.plain($0) }))
        }
        tiles.append(("Driver lag p99", result.driver.schedulingLagMs.count == 0 ? "n/a" : ReportFormat.ms(result.driver.schedulingLagMs.p99), "CPU " + ReportFormat.plain(result.driver.cpuPercent) + "%"))
        html.raw("<div class=\"kpis\">")
        for (label, value, sub) in tiles {
            html.raw("<div class=\"kpi\"><div class=\"label\">\(h(label))</div><div class=\"value\">\(h(value))</div>")
            if let sub { html.raw("<div class=\"sub\">\(h(sub))</div>") }
            html.raw("</div>")
        }
        html.raw("</div>\n")
    }

    private func thresholds(_ html: inout HTMLText) {
        html.raw("<h3>Thresholds</h3>\n")
        guard !result.thresholds.isEmpty else {
            html.raw("<p class=\"muted\">No thresholds were set: the run passes by definition.</p>\n")
            return
        }
        html.raw("<table class=\"thresholds\"><thead><tr><th>Expression</th><th>Actual</th><th>Limit</th><th>Result</th><th>Note</th></tr></thead><tbody>\n")
        for t in result.thresholds {
            html.raw("<tr class=\"\(t.ok ? "pass" : "fail")\"><td><code>\(h(t.expression))</code></td>")
            html.raw("<td class=\"num\">\(h(ReportFormat.thresholdValue(t.actual, expression: t.expression)))</td>")
            html.raw("<td class=\"num\">\(h(ReportFormat.thresholdValue(t.limit, expression: t.expression)))</td>")
            html.raw("<td>\(t.ok ? "<span class=\"verdict pass\">pass</span>" : "<span class=\"verdict fail\">fail</span>")</td>")
            html.raw("<td class=\"note\">\(h(t.note ?? ""))</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    private func deltas(_ html: inout HTMLText, _ delta: BaselineDelta) {
        let n = delta.regressions.count
        html.raw("<h3>Compared with baseline \(n == 0 ? "<span class=\"verdict pass\">no regression</span>" : "<span class=\"verdict fail\">\(n) regression\(n == 1 ? "" : "s")</span>")</h3>\n")
        var origin = "baseline started \(delta.baselineStartedAt)"
        if let source = delta.baselineSource { origin += " · " + (source as NSString).lastPathComponent }
        html.raw("<p class=\"muted\">\(h(origin))</p>\n")
        if let note = delta.machineNote { html.raw("<p class=\"machine-note bad\">Note: \(h(note)).</p>\n") }
        html.raw("<table class=\"deltas\"><thead><tr><th>Metric</th><th>Baseline</th><th>Current</th><th>Change</th><th>Rule</th></tr></thead><tbody>\n")
        for m in delta.metrics {
            html.raw("<tr class=\"\(m.status.rawValue)\" data-metric=\"\(h(m.key))\"><td>\(h(m.label))</td>")
            html.raw("<td class=\"num\">\(h(m.format.value(m.baseline ?? .nan)))</td><td class=\"num\">\(h(m.format.value(m.current ?? .nan)))</td>")
            html.raw("<td class=\"num\"><span class=\"delta \(m.status.rawValue)\">\(h(m.changeText))</span></td>")
            html.raw("<td class=\"note\">\(h(m.status == .regression ? "REGRESSION: " + m.rule : m.rule))</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    private func charts(_ html: inout HTMLText) {
        html.raw("<div class=\"charts\">\n")
        for chart in ScenarioCharts(result: result, baseline: entry.baseline?.result).all() {
            html.raw("<figure class=\"chart-card\" data-chart=\"\(h(chart.id))\" data-empty=\"\(chart.isEmpty)\">\n<h4>\(h(chart.title))</h4>\n")
            html.raw(chart.svg)
            html.raw("\n<figcaption>\(h(chart.caption))</figcaption>\n</figure>\n")
        }
        html.raw("</div>\n")
    }

    private func endpoints(_ html: inout HTMLText) {
        html.raw("<div><h3>Endpoints</h3>\n")
        guard !result.endpoints.isEmpty else {
            html.raw("<p class=\"muted\">No per-endpoint statistics.</p></div>\n")
            return
        }
        html.raw("<table class=\"endpoints\"><thead><tr><th>Endpoint</th><th>Requests</th><th>Success</th><th>Rate</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>Service p95</th></tr></thead><tbody>\n")
        for (name, e) in result.endpoints.sorted(by: { $0.value.requests > $1.value.requests }) {
            html.raw("<tr><td>\(h(name))</td><td class=\"num\">\(ReportFormat.count(e.requests))</td>")
            html.raw("<td class=\"num \(e.failed > 0 ? "bad" : "")\">\(h(ReportFormat.percent(e.successRate)))</td>")
            html.raw("<td class=\"num\">\(h(ReportFormat.rate(e.achievedRate)))</td>")
            for v in [e.latencyMs.p50, e.latencyMs.p95, e.latencyMs.p99, e.latencyMs.max, e.serviceTimeMs.p95] {
                html.raw("<td class=\"num\">\(h(ReportFormat.ms(v)))</td>")
            }
            html.raw("</tr>\n")
        }
        html.raw("</tbody></table></div>\n")
    }

    /// What was done to the system during the run (faults), when the driver's caller marked it; the charts show the
    /// same events as vertical lines.
    private func events(_ html: inout HTMLText) {
        guard let events = result.events, !events.isEmpty else { return }
        html.raw("<h3>Events</h3>\n<table class=\"events\"><thead><tr><th>Load second</th><th>Event</th><th>Detail</th></tr></thead><tbody>\n")
        for event in events.sorted(by: { $0.atSeconds < $1.atSeconds }) {
            html.raw("<tr><td class=\"num\">\(h(ReportFormat.plain(event.atSeconds)))</td><td>\(h(event.name))</td><td>\(h(event.detail ?? ""))</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    private func statusCodes(_ html: inout HTMLText) {
        html.raw("<div><h3>Status codes</h3>\n")
        guard !result.statusCodes.isEmpty else {
            html.raw("<p class=\"muted\">No HTTP responses.</p></div>\n")
            return
        }
        let total = max(1, result.statusCodes.values.reduce(0, +))
        html.raw("<table class=\"status-codes\"><thead><tr><th>Status</th><th>Responses</th><th>Share</th></tr></thead><tbody>\n")
        for (code, count) in result.statusCodes.sorted(by: { $0.key < $1.key }) {
            let cls = code.hasPrefix("2") ? "s2xx" : code.hasPrefix("4") ? "s4xx" : code.hasPrefix("5") ? "s5xx" : "sother"
            html.raw("<tr class=\"\(cls)\"><td><span class=\"code \(cls)\">\(h(code))</span></td><td class=\"num\">\(ReportFormat.count(count))</td><td class=\"num\">\(h(ReportFormat.percent(Double(count) / Double(total))))</td></tr>\n")
        }
        html.raw("</tbody></table></div>\n")
    }

    private func errors(_ html: inout HTMLText) {
        let e = result.errors
        html.raw("<h3>Errors</h3>\n")
        var notes: [String] = []
        if e.setupFailures > 0 { notes.append("\(ReportFormat.count(e.setupFailures)) setup requests failed (not measured)") }
        if e.warmUpFailures > 0 { notes.append("\(ReportFormat.count(e.warmUpFailures)) warm-up requests failed (not measured)") }
        if e.total == 0 && e.samples.isEmpty {
            html.raw("<p class=\"muted\">No errors in the measured window.\(notes.isEmpty ? "" : " " + h(notes.joined(separator: "; ")) + ".")</p>\n")
            return
        }
        if !notes.isEmpty { html.raw("<p class=\"muted\">\(h(notes.joined(separator: "; "))).</p>\n") }
        let requests = max(1, result.summary.requests)
        html.raw("<div class=\"tables\"><div><table class=\"error-counts\"><thead><tr><th>Kind</th><th>Count</th><th>Of requests</th></tr></thead><tbody>\n")
        for (kind, count) in e.counts.sorted(by: { $0.value > $1.value }) where count > 0 {
            html.raw("<tr><td><span class=\"swatch\" style=\"background:\(ChartPalette.color(forErrorKind: kind))\"></span>\(h(kind))</td><td class=\"num\">\(ReportFormat.count(count))</td><td class=\"num\">\(h(ReportFormat.percent(Double(count) / Double(requests))))</td></tr>\n")
        }
        html.raw("<tr class=\"total\"><td>total</td><td class=\"num\">\(ReportFormat.count(e.total))</td><td class=\"num\">\(h(ReportFormat.percent(Double(e.total) / Double(requests))))</td></tr>\n")
        html.raw("</tbody></table></div></div>\n")
        guard !e.samples.isEmpty else { return }
        let shown = e.samples.sorted { $0.atSeconds < $1.atSeconds }.prefix(maxSamplesShown)
        html.raw("<details class=\"samples\" open=\"open\"><summary>Error samples (\(shown.count) of \(e.samples.count) kept; the first of each kind)</summary>\n")
        html.raw("<table class=\"error-samples\"><thead><tr><th>At</th><th>Kind</th><th>Endpoint</th><th>Detail</th></tr></thead><tbody>\n")
        for sample in shown {
            let at = sample.atSeconds < 0 ? "setup" : String(format: "%.3f s", sample.atSeconds)
            var detail = sample.detail
            if detail.count > 300 { detail = String(detail.prefix(300)) + "…" }
            html.raw("<tr><td class=\"num\">\(h(at))</td><td>\(h(sample.kind.rawValue))</td><td>\(h(sample.endpoint))</td><td class=\"detail\"><code>\(h(detail))</code></td></tr>\n")
        }
        html.raw("</tbody></table></details>\n")
    }

    private func pool(_ html: inout HTMLText) {
        html.raw("<div><h3>Pool</h3>\n")
        guard let pool = result.pool else {
            html.raw("<p class=\"muted\">No pool samples (monitoring off or the endpoint did not answer).</p></div>\n")
            return
        }
        let keys = PoolField.displayOrder(Set(pool.initial.keys).union(pool.final.keys).union(pool.peak.keys))
        html.raw("<table class=\"pool\"><thead><tr><th>Field</th><th>Initial</th><th>Final</th><th>Peak</th></tr></thead><tbody>\n")
        for key in keys {
            func v(_ x: Double?) -> String {
                guard let x else { return "–" }
                return key == PoolField.utilization ? ReportFormat.percent(x) : key.contains("Ms.") ? ReportFormat.ms(x) : ReportFormat.plain(x)
            }
            html.raw("<tr><td>\(h(key))</td><td class=\"num\">\(h(v(pool.initial[key])))</td><td class=\"num\">\(h(v(pool.final[key])))</td><td class=\"num\">\(h(v(pool.peak[key])))</td></tr>\n")
        }
        html.raw("</tbody></table>\n<p class=\"muted\">\(pool.samples) polls, \(pool.failedPolls) failed.</p></div>\n")
    }

    private func driver(_ html: inout HTMLText) {
        let d = result.driver
        var rows: [(String, String)] = [
            ("scheduling lag p50 / p99 / max", d.schedulingLagMs.count == 0 ? "n/a: no send went out on its own timer (every slot found its connection busy)" : "\(ReportFormat.ms(d.schedulingLagMs.p50)) / \(ReportFormat.ms(d.schedulingLagMs.p99)) / \(ReportFormat.ms(d.schedulingLagMs.max))"),
            ("driver-limited", d.driverLimited ? "yes: \(d.limitSummary ?? d.limitDescription)" : "no (bounds: lag p99 \(ReportFormat.ms(d.driverLimitedLagMs))\(d.driverLimitedLoopCPUPercent.map { String(format: ", loop CPU %.0f%%", $0) } ?? ""))"),
            ("driver event-loop CPU", d.loopCPUPercent.map { $0.map { String(format: "%.0f%%", $0) }.joined(separator: ", ") + " of a core" } ?? "–"),
            ("process CPU", "\(ReportFormat.plain(d.cpuPercent))% of one core (user \(ReportFormat.plain(d.cpuUserSeconds)) s, system \(ReportFormat.plain(d.cpuSystemSeconds)) s)"),
            ("event-loop threads", String(d.eventLoopThreads)),
            ("connections opened / reconnects", "\(ReportFormat.count(d.connectionsOpened)) / \(ReportFormat.count(d.reconnects))"),
            ("late / dropped sends", "\(ReportFormat.count(result.summary.late)) / \(ReportFormat.count(result.summary.dropped))"),
            ("setup", ReportFormat.duration(d.setupSeconds)),
            ("stopped by", d.stopReason),
        ]
        if let tick = d.timerResolutionMs {
            rows.append(("timer resolution", tick > 0 ? "\(ReportFormat.ms(tick)) (sends due within a tick go out together; latency counts from the intended time)" : "exact (one timer per send)"))
        }
        if let m = d.machine {
            rows.append(("machine CPU", "\(m.cpus) CPUs, \(ReportFormat.plain(m.busyPercent))% busy, \(ReportFormat.plain(m.stealPercent))% stolen by the hypervisor"))
        }
        html.raw("<div><h3>Driver self-check</h3>\n<table class=\"driver kv\"><tbody>\n")
        for (k, v) in rows {
            html.raw("<tr\(k == "driver-limited" && d.driverLimited ? " class=\"fail\"" : "")><th>\(h(k))</th><td>\(h(v))</td></tr>\n")
        }
        html.raw("</tbody></table></div>\n")
    }

    private func environment(_ html: inout HTMLText) {
        let e = result.environment
        var rows: [(String, String)] = [
            ("build", e.buildConfiguration), ("CPUs", String(e.cpuCount)), ("Swift", e.swiftVersion),
            ("git commit", e.gitCommit ?? "–"), ("OS", e.os), ("host", e.hostname), ("target", e.target), ("run id", result.runId),
        ]
        if let loopback = e.loopbackRoundTripsPerSecond {
            rows.append(("loopback round trips/s", ReportFormat.count(Int(loopback.rounded()))))
        }
        rows += e.extra.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        html.raw("<details class=\"environment\"><summary>Environment</summary>\n<table class=\"kv\"><tbody>\n")
        for (k, v) in rows { html.raw("<tr><th>\(h(k))</th><td>\(h(v))</td></tr>\n") }
        html.raw("</tbody></table></details>\n")
    }
}
