import Foundation
import LoadDriver
import Logging
import PerformanceSupport
import Synchronization
import Testing

/// Runs one scenario through the harness and turns its outcome into test results: attachments, issues, a table.
enum ScenarioCheck {
    static let logger: Logger = {
        var logger = Logger(label: "performance")
        logger.logLevel = .warning
        return logger
    }()

    @discardableResult
    static func run(
        _ spec: PerformanceScenario,
        environment: PerformanceEnvironment? = nil,
        during: (@Sendable (LiveScenario) async throws -> Void)? = nil
    ) async throws -> PerformanceRun {
        let environment = try environment ?? PerformanceEnvironment.current()
        var run = try await PerformanceHarness.run(spec, environment: environment, logger: logger, during: during)
        // A run compared with a stored baseline, during which the hypervisor took a large share of the CPU, did not
        // measure the service: it is measured again (at most `measurementAttempts` in all) and judged only when
        // valid; if none is, that fails the test. (Scenarios without a baseline judge correctness and absolute
        // bounds, which held under such noise: they are judged as measured.)
        var attempts = 1
        while run.baselineFile != nil, let stolen = stolenPercent(run), stolen > maximumStolenPercent,
            attempts < measurementAttempts
        {
            print("\(run.result.scenario.name): not a valid measurement, \(Int(stolen))% of the CPU was stolen (limit \(Int(maximumStolenPercent))%); measuring again")
            try supersede(&run)
            attachAndPrint(run)
            run = try await PerformanceHarness.run(spec, environment: environment, logger: logger, during: during)
            attempts += 1
        }
        if run.baselineFile != nil, let stolen = stolenPercent(run), stolen > maximumStolenPercent {
            Issue.record(Comment(rawValue:
                "\(run.result.scenario.name): no valid measurement in \(attempts) attempts: the machine is too contended (\(Int(stolen))% of the CPU stolen in the last, limit \(Int(maximumStolenPercent))%)"))
        }
        if !run.regressions.isEmpty, run.result.thresholds.allSatisfy(\.ok) {
            // Every threshold held but the run regressed against its baseline: on a shared machine a burst of stolen
            // CPU does that (a clean Baseline's p10 went 1.4 -> 6.3 ms with 32% of the CPU stolen). The same bar is
            // applied to one more run, which decides; a real regression fails both. Both results are written.
            print("\(run.result.scenario.name): regressed against its baseline\(machineState(run)); measuring once more to confirm:")
            for regression in run.regressions { print("  first run: \(PerformanceRun.failureLine(regression))") }
            try supersede(&run)
            attachAndPrint(run)
            run = try await PerformanceHarness.run(spec, environment: environment, logger: logger, during: during)
        }
        record(run, failures: run.failures)
        return run
    }

    /// CPU stolen by the hypervisor during the load above which a run is not a measurement of the service. Clean
    /// Baseline runs passed with up to 19% stolen here; with 32% and 34% stolen, its p50 went 5 -> 31 and 69 ms.
    static let maximumStolenPercent = 20.0
    /// Runs of one scenario at most, while they are not valid measurements.
    static let measurementAttempts = 3

    static func stolenPercent(_ run: PerformanceRun) -> Double? { run.result.driver.machine?.stealPercent }

    /// Marks an attempt that a re-measurement replaces, in its result file too, so reports do not count its verdict.
    static func supersede(_ run: inout PerformanceRun) throws {
        run.result.role = .superseded
        if let file = run.resultFile { try run.result.jsonData().write(to: file, options: .atomic) }
    }

    /// Runs a scenario that is measured but not gated (its failures are the point): attaches, prints, records nothing.
    static func measure(
        _ spec: PerformanceScenario, environment: PerformanceEnvironment,
        during: (@Sendable (LiveScenario) async throws -> Void)? = nil
    ) async throws -> PerformanceRun {
        let run = try await PerformanceHarness.run(spec, environment: environment, logger: logger, during: during)
        attachAndPrint(run)
        return run
    }

    /// Attaches the JSON, prints the scenario's table and the suite's summary so far, and records `failures`.
    static func record(_ run: PerformanceRun, failures: [String]) {
        attachAndPrint(run)
        for failure in failures {
            Issue.record(Comment(rawValue: "\(run.result.scenario.name): \(failure)\(machineState(run))"))
        }
    }

    /// The machine's state, which goes with every failure: a shared CI machine in a slow phase looks like a regression.
    static func machineState(_ run: PerformanceRun) -> String {
        run.result.driver.machine.map {
            String(format: " [machine during the load: %d CPUs %.0f%% busy, %.1f%% stolen", $0.cpus, $0.busyPercent, $0.stealPercent)
                + (run.result.busiestSecondDescription.map { "; \($0)" } ?? "") + "]"
        } ?? ""
    }

    private static func attachAndPrint(_ run: PerformanceRun) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(run.result) {
            Attachment.record(data, named: run.resultFile?.lastPathComponent ?? "\(run.result.scenario.name).json")
        }
        print(run.result.summaryTable())
        if let file = run.resultFile { print("result: \(file.path)") }
        SuiteSummary.shared.add(run)
        print(SuiteSummary.shared.table())
    }
}

/// One line per scenario run so far in this process: the seed's summary table.
final class SuiteSummary: Sendable {
    static let shared = SuiteSummary()
    private let rows = Mutex<[PerformanceRun]>([])

    func add(_ run: PerformanceRun) { rows.withLock { $0.append(run) } }

    func table() -> String {
        let runs = rows.withLock { $0 }
        var lines = ["", "Performance suite summary", String(repeating: "-", count: 118)]
        lines.append(
            pad("scenario", 18) + pad("users", 7) + pad("target/s", 10) + pad("achieved/s", 12) + pad("success", 10)
                + pad("p50 ms", 9) + pad("p95 ms", 9) + pad("p99 ms", 9) + pad("pool peak", 11) + pad("cmd/req", 9)
                + "verdict")
        for run in runs {
            let r = run.result
            let s = r.summary
            let cmds = run.gates.first { $0.expression.hasPrefix("gate.redisCommandsPerRequest") }?.actual
            lines.append(
                pad(r.scenario.name, 18) + pad("\(r.scenario.users)", 7)
                    + pad(s.targetRate.map { fmt($0, 0) } ?? "closed", 10) + pad(fmt(s.achievedRate, 0), 12)
                    + pad(fmt(s.successRate * 100, 2) + "%", 10) + pad(fmt(s.latencyMs.p50, 2), 9)
                    + pad(fmt(s.latencyMs.p95, 2), 9) + pad(fmt(s.latencyMs.p99, 2), 9)
                    + pad(r.pool?.peak["utilization"].map { fmt($0 * 100, 1) + "%" } ?? "n/a", 11)
                    + pad(cmds.map { fmt($0, 3) } ?? "n/a", 9) + run.result.verdict.label)
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    private func fmt(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
