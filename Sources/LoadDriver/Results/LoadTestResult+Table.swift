import Foundation

extension LoadTestResult {
    /// The human-readable summary printed at the end of a run (the library returns it; callers print it).
    public func summaryTable() -> String {
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        let s = self.summary
        var out = ""
        out += "=== Load test: \(self.scenario.name) — \(self.scenario.users) users, target \(self.environment.target) ===\n"
        out += "build \(self.environment.buildConfiguration), \(self.environment.cpuCount) CPUs, run \(self.runId), started \(self.startedAt)\n"
        out += "requests \(s.requests)  succeeded \(s.succeeded)  failed \(s.failed)  success \(pct(s.successRate))\n"
        let users = self.scenario.load.skipsMissedSlots
        out += "\(users ? "offered" : "target") rate \(s.targetRate.map { f($0, 1) + " req/s" } ?? "— (closed loop)")  achieved \(f(s.achievedRate, 1)) req/s"
        if let t = s.targetRate, t > 0 { out += " (\(pct(s.achievedRate / t)) of \(users ? "offered" : "target"))" }
        out += "  over \(f(s.measuredSeconds, 1)) s  "
        out += users ? "skipped slots \(s.skipped ?? 0)" : "late \(s.late)"
        out += "  dropped \(s.dropped)\n"
        if let lag = s.scheduleLagMs {
            out += "schedule lag (send after slot, ms): p50 \(f(lag.p50))  p95 \(f(lag.p95))  p99 \(f(lag.p99))  max \(f(lag.max))\n"
        }
        out += "\n"
        let cols = ["p50", "p75", "p90", "p95", "p99", "p99.9", "max", "mean"]
        out += pad("latency (ms)", 26) + cols.map { lpad($0, 9) }.joined() + lpad("count", 9) + "\n"
        func row(_ name: String, _ l: LatencyStats) -> String {
            pad(name, 26) + [l.p50, l.p75, l.p90, l.p95, l.p99, l.p999, l.max, l.mean].map { lpad(f($0), 9) }.joined()
                + lpad(String(l.count), 9) + "\n"
        }
        out += row(users ? "all (from slot)" : "all (corrected)", s.latencyMs)
        out += row(users ? "all (users waited)" : "all (service time)", s.serviceTimeMs)
        for name in self.endpoints.keys.sorted() {
            let e = self.endpoints[name]!
            out += row(users ? "\(name) (users waited)" : "\(name) (corrected)", users ? e.serviceTimeMs : e.latencyMs)
        }
        out += "\n"
        if !self.statusCodes.isEmpty {
            out += "status codes: " + self.statusCodes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        }
        if self.errors.total > 0 || self.errors.setupFailures > 0 {
            out += "errors: " + self.errors.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            out += "  (setup failures \(self.errors.setupFailures), warm-up failures \(self.errors.warmUpFailures))\n"
            var shown = Set<ErrorKind>()
            for sample in self.errors.samples where !shown.contains(sample.kind) {
                shown.insert(sample.kind)
                out += "  e.g. \(sample.kind.rawValue) at \(f(sample.atSeconds, 1)) s on \(sample.endpoint): \(sample.detail.prefix(160))\n"
            }
        }
        if let pool = self.pool {
            let keys = pool.peak.keys.sorted()
            out += "pool (peak): " + keys.prefix(12).map { "\($0)=\(f(pool.peak[$0]!, 3))" }.joined(separator: " ") + "\n"
        }
        let d = self.driver
        out += "driver: lag \(d.schedulingLagMs.summary); CPU \(f(d.cpuPercent, 0))% of a core; \(d.eventLoopThreads) loop(s); \(d.connectionsOpened) connections (\(d.reconnects) reconnects); stop: \(d.stopReason)"
        if let tick = d.timerResolutionMs { out += "; timer resolution \(f(tick, 1)) ms" }
        if let loops = d.loopCPUPercent, !loops.isEmpty {
            out += "; its event loop\(loops.count == 1 ? "" : "s") at " + loops.map { "\(f($0, 0))%" }.joined(separator: ", ") + " of a core"
        }
        if let m = d.machine {
            out += "\nmachine: \(m.cpus) CPUs \(f(m.busyPercent, 0))% busy, \(f(m.stealPercent, 1))% stolen by the hypervisor during the load"
            if let busiest = self.busiestSecondDescription { out += "; \(busiest)" }
        }
        if let loopback = self.environment.loopbackRoundTripsPerSecond {
            out += (d.machine == nil ? "\nmachine: " : "; ") + "loopback \(f(loopback, 0)) round trips/s before the load"
        }
        out += d.limitSummary.map { "\n  \($0) — latencies include that delay\n" } ?? "\n"
        if !self.thresholds.isEmpty {
            out += "\nthresholds:\n"
            for t in self.thresholds {
                let actual = t.actual.map { f($0, 4) } ?? "n/a"
                out += "  [\(t.ok ? "PASS" : "FAIL")] \(pad(t.expression, 32)) actual \(actual)" + (t.note.map { " (\($0))" } ?? "") + "\n"
            }
        }
        switch self.verdict {
        case .passed: out += "RESULT: PASSED\n"
        case .failed: out += "RESULT: FAILED\n"
        case .reference: out += "RESULT: REFERENCE (not gated: measured to compare)\n"
        case .superseded: out += "RESULT: RE-MEASURED (not gated: a later run of this scenario decides)\n"
        }
        return out
    }
}

extension LoadTestResult {
    /// The measured second in which the machine was busiest (from the per-second CPU samples), if any.
    public var busiestSecond: TimeSeriesPoint? {
        timeSeries.filter { !$0.warmUp && $0.machine != nil }.max { $0.machine!.busyPercent < $1.machine!.busyPercent }
    }

    /// E.g. "busiest second s14: 97% busy (this process 150% of a core, 2.1% stolen)"; `nil` without CPU samples.
    public var busiestSecondDescription: String? {
        guard let point = busiestSecond, let machine = point.machine else { return nil }
        var text = "busiest second s\(point.second): \(Int(machine.busyPercent.rounded()))% busy"
        var parts: [String] = []
        if let cpu = point.cpuPercent { parts.append("this process \(Int(cpu.rounded()))% of a core") }
        parts.append(String(format: "%.1f%% stolen", machine.stealPercent))
        text += " (" + parts.joined(separator: ", ") + ")"
        return text
    }
}
