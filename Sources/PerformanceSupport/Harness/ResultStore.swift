import Foundation
import LoadDriver

/// Writes results with the seed's file naming and keeps the reference results under `Baselines/`.
public enum ResultStore {
    /// Writes `load_test_<scenario>_<users>users_YYYYMMDD_HHMMSS.json` into `directory` and returns its URL.
    @discardableResult
    public static func write(_ result: LoadTestResult, to directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try result.write(toDirectory: directory)
    }
}

/// The regression gate's reference results: `Baselines/<scenario>.json`, refreshed by `scripts/perf --update-baselines`.
public enum BaselineStore {
    /// The gate's tolerances: ``BaselineComparison/Tolerances/sharedMachine`` (the floor held tight, the median
    /// looser, the tail only against gross regressions), the same set `loaddriver compare --tolerances shared-machine`
    /// and `loaddriver report --tolerances shared-machine` apply.
    public static let gateTolerances = BaselineComparison.Tolerances.sharedMachine

    /// The expression prefix of the checks against the baseline in a result's thresholds: `baseline.p95Ms <= 12.3`.
    public static let checkPrefix = "baseline."

    public static func file(for scenario: String, in directory: URL) -> URL {
        directory.appendingPathComponent("\(scenario).json")
    }

    /// A baseline is a band: recorded again, it keeps for each compared figure the worse of the stored value and this
    /// run's (the highest latency percentiles and failure rate, the lowest achieved rate), so N recordings give the
    /// edge of N clean runs and the tolerances apply beyond it. `environment.extra["baselineRuns"]` counts them.
    static func bandEdge(_ earlier: LoadTestResult, _ latest: LoadTestResult) -> LoadTestResult {
        var edge = latest
        let a = earlier.summary.latencyMs
        var l = edge.summary.latencyMs
        if let p10a = a.p10 { l.p10 = max(p10a, l.p10 ?? p10a) }
        l.p50 = max(a.p50, l.p50)
        l.p95 = max(a.p95, l.p95)
        l.p99 = max(a.p99, l.p99)
        edge.summary.latencyMs = l
        edge.summary.failureRate = max(earlier.summary.failureRate, edge.summary.failureRate)
        edge.summary.achievedRate = min(earlier.summary.achievedRate, edge.summary.achievedRate)
        for (name, endpoint) in earlier.endpoints {
            guard var current = edge.endpoints[name] else { continue }
            current.latencyMs.p99 = max(endpoint.latencyMs.p99, current.latencyMs.p99)
            edge.endpoints[name] = current
        }
        let runs = (Int(earlier.environment.extra["baselineRuns"] ?? "1") ?? 1) + 1
        edge.environment.extra["baselineRuns"] = String(runs)
        return edge
    }

    /// With `PERF_UPDATE_BASELINES=1` stores this run as the baseline; otherwise compares with the stored one (if any)
    /// and records regressions.
    static func gate(_ run: inout PerformanceRun, environment: PerformanceEnvironment) throws {
        let url = file(for: run.result.scenario.name, in: environment.baselineDirectory)
        if environment.updateBaselines {
            // A failing run is never stored; its failures fail the test as in any run.
            guard run.result.thresholds.allSatisfy(\.ok) else { return }
            try FileManager.default.createDirectory(at: environment.baselineDirectory, withIntermediateDirectories: true)
            var stored = run.result
            stored.timeSeries = []  // the reference needs the aggregates, not the per-second series
            if FileManager.default.fileExists(atPath: url.path),
                let earlier = try? JSONDecoder().decode(LoadTestResult.self, from: Data(contentsOf: url))
            {
                stored = bandEdge(earlier, stored)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(stored).write(to: url, options: .atomic)
            return
        }
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let baseline = try JSONDecoder().decode(LoadTestResult.self, from: Data(contentsOf: url))
        run.baselineFile = url
        let comparison = BaselineComparison(current: run.result, baseline: baseline, tolerances: gateTolerances)
        let note = comparison.machineNote.map { "; note: \($0)" } ?? ""
        run.result.record(comparison.metrics.map { m in
            ThresholdResult(
                expression: "\(checkPrefix)\(m.metric) \(m.higherIsWorse ? "<=" : ">=") \(String(format: "%.4g", m.allowed))",
                actual: m.current, limit: m.allowed, ok: !m.regression,
                note: "baseline \(String(format: "%.4g", m.baseline)) -> \(String(format: "%.4g", m.current))\(note)")
        })
    }
}
