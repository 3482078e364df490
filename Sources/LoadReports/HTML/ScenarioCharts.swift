import Foundation
import LoadDriver

/// A chart ready for the page: its SVG and what it shows.
package struct RenderedChart: Sendable {
    /// `throughput`, `latency`, `pool`, `cpu`, `errors` or `distribution`.
    package var id: String
    package var title: String
    /// One or two sentences under the chart (what is estimated, what is off the chart).
    package var caption: String
    package var svg: String
    package var isEmpty: Bool
}

/// The six charts of one scenario, built from its result (and its baseline for the distribution overlay).
package struct ScenarioCharts {
    package static let ids = ["throughput", "latency", "pool", "cpu", "errors", "distribution"]

    let result: LoadTestResult
    let baseline: LoadTestResult?

    package init(result: LoadTestResult, baseline: LoadTestResult? = nil) {
        self.result = result
        self.baseline = baseline
    }

    package func all() -> [RenderedChart] {
        [throughput(), latency(), pool(), cpu(), errors(), distribution()]
    }

    private var series: [TimeSeriesPoint] { result.timeSeries.sorted { $0.second < $1.second } }

    private var warmUpBands: [ChartBand] {
        let warm = series.filter(\.warmUp).map(\.second)
        guard let first = warm.min(), let last = warm.max() else { return [] }
        return [ChartBand(from: Double(first), to: Double(last + 1), label: "warm-up")]
    }

    /// The run's events (faults injected and cleared), drawn as vertical lines on every per-second chart.
    private var eventMarkers: [ChartMarker] {
        (result.events ?? []).map { ChartMarker(at: $0.atSeconds, label: $0.name) }
    }

    /// Splits the series into contiguous runs of seconds for which `value` is defined.
    private func segments(_ value: (TimeSeriesPoint) -> Double?) -> [[ChartPoint]] {
        var out: [[ChartPoint]] = []
        var current: [ChartPoint] = []
        var previousSecond: Int?
        for point in series {
            if let v = value(point), v.isFinite {
                if let p = previousSecond, p + 1 != point.second, !current.isEmpty {
                    out.append(current)
                    current = []
                }
                current.append(ChartPoint(x: Double(point.second) + 0.5, y: v))
                previousSecond = point.second
            } else if !current.isEmpty {
                out.append(current)
                current = []
                previousSecond = nil
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    func throughput() -> RenderedChart {
        var lines: [ChartSeries] = []
        if series.contains(where: { $0.targetRate != nil }) {
            lines.append(ChartSeries(name: "target", color: ChartPalette.lightGray, segments: segments { $0.targetRate }, dashed: true))
        }
        lines.append(ChartSeries(name: "achieved", color: ChartPalette.blue, segments: segments { $0.achievedRate }))
        if series.contains(where: { $0.errors > 0 }) {
            lines.append(ChartSeries(name: "errors/s", color: ChartPalette.red, segments: segments { Double($0.errors) }, lineWidth: 1.5))
        }
        let chart = LineChart(
            id: "throughput", title: "Throughput: target vs achieved", xTitle: "seconds since load start",
            yTitle: "requests / s", yFormat: .requestsPerSecond, series: lines, bands: warmUpBands, markers: eventMarkers,
            emptyMessage: "no per-second data in this result")
        var caption = "Completed requests per second (responses and transport errors)."
        if let target = result.summary.targetRate {
            caption += " Target \(ReportFormat.rate(target)), achieved \(ReportFormat.rate(result.summary.achievedRate)) over the measured window."
        } else {
            caption += " Closed loop: no target rate."
        }
        if result.summary.late > 0 || result.summary.dropped > 0 {
            caption += " \(ReportFormat.count(result.summary.late)) sends were late and \(ReportFormat.count(result.summary.dropped)) dropped."
        }
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }

    func latency() -> RenderedChart {
        let lines = [
            ChartSeries(name: "p50", color: ChartPalette.green, segments: segments { $0.requests > 0 ? $0.p50Ms : nil }),
            ChartSeries(name: "p95", color: ChartPalette.orange, segments: segments { $0.requests > 0 ? $0.p95Ms : nil }),
            ChartSeries(name: "p99", color: ChartPalette.red, segments: segments { $0.requests > 0 ? $0.p99Ms : nil }),
        ]
        let dataMax = lines.flatMap(\.points).map(\.y).max() ?? 0
        var references: [ReferenceLine] = []
        var offChart: [String] = []
        for threshold in result.thresholds {
            guard let parsed = try? Threshold(parsing: threshold.expression),
                  case .request(nil, false, .percentile) = parsed.metric,
                  parsed.comparison == .less || parsed.comparison == .lessOrEqual else { continue }
            let limit = parsed.normalizedLimit
            if dataMax > 0 && limit > dataMax * 3 {
                offChart.append("\(threshold.expression) (limit \(ReportFormat.ms(limit)))")
            } else {
                references.append(ReferenceLine(value: limit, label: threshold.expression, color: ChartPalette.red))
            }
        }
        let chart = LineChart(
            id: "latency", title: "Latency percentiles per second", xTitle: "seconds since load start",
            yTitle: "latency (ms)", yFormat: .milliseconds, series: lines, references: references, bands: warmUpBands, markers: eventMarkers,
            emptyMessage: "no responses recorded")
        var caption = result.scenario.load.isOpen
            ? "Corrected latency (from each request's intended send time), per second of completion."
            : "Latency of each request (closed loop: from the actual send), per second of completion."
        if !offChart.isEmpty {
            caption += " Far below the limit: " + offChart.joined(separator: ", ") + "."
        }
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }

    func pool() -> RenderedChart {
        let hasPool = series.contains { $0.pool != nil }
        let lines = [
            ChartSeries(name: PoolField.inUse, color: ChartPalette.purple, segments: segments { $0.pool?[PoolField.inUse] }),
            ChartSeries(name: PoolField.waiters, color: ChartPalette.amber, segments: segments { $0.pool?[PoolField.waiters] }),
        ]
        let dataMax = lines.flatMap(\.points).map(\.y).max() ?? 0
        var references: [ReferenceLine] = []
        var caption = "Redis connection pool, polled from the server once per second."
        let maximum = result.pool?.peak[PoolField.maximumConnections] ?? result.pool?.initial[PoolField.maximumConnections]
        if let maximum, maximum > 0 {
            if dataMax >= maximum / 3 {
                references.append(ReferenceLine(value: maximum, label: "maximumConnections \(ReportFormat.plain(maximum))", color: ChartPalette.gray))
            } else {
                caption += " Pool size \(ReportFormat.plain(maximum)) (off the chart)."
            }
        }
        if let peak = result.pool?.peak {
            let parts = [PoolField.inUse, PoolField.waiters, PoolField.utilization].map { name in
                (name, peak[name].map { name == PoolField.utilization ? $0 * 100 : $0 })
            }
                .compactMap { name, v in v.map { "\(name) \(ReportFormat.plain($0))\(name == PoolField.utilization ? "%" : "")" } }
            if !parts.isEmpty { caption += " Peak: " + parts.joined(separator: ", ") + "." }
        }
        let message = hasPool ? "pool fields inUse / waiters not reported" : "no pool samples (monitoring off or unreachable)"
        let chart = LineChart(
            id: "pool", title: "Pool: connections in use and waiters", xTitle: "seconds since load start",
            yTitle: "connections / callers", yFormat: .count, series: lines, references: references, bands: warmUpBands, markers: eventMarkers,
            emptyMessage: message)
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }

    /// The machine's CPU per second, in percent of all its CPUs: busy (anything), this process (the driver, plus the
    /// server when in-process) and hypervisor steal. A latency spike in a second where the machine was saturated by
    /// something other than this process is the machine's noise, not the service's regression.
    func cpu() -> RenderedChart {
        let machineCPUs = result.driver.machine?.cpus
        func cpus(_ p: TimeSeriesPoint) -> Double { Double(max(1, p.machine?.cpus ?? machineCPUs ?? 1)) }
        let lines = [
            ChartSeries(name: "machine busy", color: ChartPalette.gray, segments: segments { $0.machine?.busyPercent }),
            ChartSeries(name: "this process", color: ChartPalette.blue, segments: segments { p in p.cpuPercent.map { $0 / cpus(p) } }),
            ChartSeries(name: "steal", color: ChartPalette.red, segments: segments { $0.machine?.stealPercent }, lineWidth: 1.5),
        ]
        let chart = LineChart(
            id: "cpu", title: "Machine CPU per second", xTitle: "seconds since load start",
            yTitle: "% of all CPUs", yFormat: .count, series: lines,
            references: [ReferenceLine(value: 100, label: machineCPUs.map { "all \($0) CPUs" } ?? "all CPUs", color: ChartPalette.gray)],
            bands: warmUpBands, markers: eventMarkers, emptyMessage: "no per-second CPU samples in this result (/proc/stat unreadable or an older result)")
        var caption = "Busy: every process on the machine; this process: the driver, plus the server when it runs in-process; steal: taken by the hypervisor."
        if let machine = result.driver.machine {
            caption += " Over the load: \(ReportFormat.plain(machine.busyPercent))% busy, \(ReportFormat.plain(machine.stealPercent))% steal."
        }
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }

    func errors() -> RenderedChart {
        let title = "Errors per second by kind", xTitle = "seconds since load start", yTitle = "errors / s"
        if !series.isEmpty && result.errors.total == 0 && series.allSatisfy({ $0.errors == 0 }) {
            // Nothing failed: the data is a zero every second, drawn as such rather than as an empty plot.
            let chart = LineChart(
                id: "errors", title: title, xTitle: xTitle, yTitle: yTitle, yFormat: .count,
                series: [ChartSeries(name: "0 errors", color: ChartPalette.green, segments: segments { _ in 0 })],
                bands: warmUpBands, markers: eventMarkers)
            let caption = series.count == 1 ? "No request failed in the run's only second."
                : "No request failed in any of the run's \(ReportFormat.count(series.count)) seconds."
            return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
        }
        let timeline = ErrorTimeline(result: result)
        let seconds = series.map(\.second)
        let slots = (seconds.min() ?? 0)..<((seconds.max() ?? 0) + 1)
        let chart = StackedBarChart(
            id: "errors", title: title, xTitle: xTitle, yTitle: yTitle,
            slots: slots, layers: timeline.layers, bands: warmUpBands, markers: eventMarkers, emptyMessage: "no per-second data in this result")
        var caption = "Failed requests per second (transport errors and unexpected statuses)."
        let kinds = result.errors.counts.filter { $0.value > 0 }.sorted { $0.value > $1.value }
            .map { "\($0.key) \(ReportFormat.count($0.value))" }
        if !kinds.isEmpty { caption += " Measured window: " + kinds.joined(separator: ", ") + "." }
        if !timeline.perKind.isEmpty {
            switch timeline.basis {
            case .recorded:
                caption += " Kinds per second as recorded."
            case .derived where timeline.isEstimated:
                caption += " Kinds per second are estimated from the kept samples and the overall counts (this result predates per-second counts by kind)."
            case .derived:
                caption += " Kinds per second are derived from the kept samples (this result predates per-second counts by kind)."
            }
        }
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }

    func distribution() -> RenderedChart {
        func points(_ r: LoadTestResult) -> [ChartPoint] {
            let total = r.latencyDistribution.last?.totalCount ?? r.summary.latencyMs.count
            var out: [ChartPoint] = []
            for p in r.latencyDistribution {
                var x = NinesAxis.coordinate(percentile: p.percentile, totalCount: total)
                // 100% has no finite position: draw the max just past the last finite level.
                if p.percentile >= 100, let last = out.last { x = max(x, last.x + 0.1) }
                out.append(ChartPoint(x: x, y: p.valueMs))
            }
            return out
        }
        var lines = [ChartSeries(name: result.scenario.name, color: ChartPalette.blue, points: points(result))]
        if let baseline, !baseline.latencyDistribution.isEmpty {
            lines.append(ChartSeries(name: "baseline", color: ChartPalette.gray, points: points(baseline), dashed: true))
        }
        let chart = LineChart(
            id: "distribution", title: "Latency by percentile (HdrHistogram)", xTitle: "percentile",
            yTitle: "latency (ms)", xAxis: .nines, yFormat: .milliseconds, series: lines,
            emptyMessage: "no latency distribution in this result")
        let s = result.summary.latencyMs
        var caption = "Whole measured window, log \"nines\" axis: x = 1/(1-percentile). p50 \(ReportFormat.ms(s.p50)), p99 \(ReportFormat.ms(s.p99)), p99.9 \(ReportFormat.ms(s.p999)), max \(ReportFormat.ms(s.max))."
        if baseline != nil { caption += " Dashed: the baseline." }
        return RenderedChart(id: chart.id, title: chart.title, caption: caption, svg: chart.render(), isEmpty: chart.isEmpty)
    }
}
