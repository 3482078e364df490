import AuthScenarios
import AuthServiceUnderTest
import Foundation
import LoadDriver
import Logging
import PerformanceSupport
import Testing

/// How far GET /auth/verify scales on this machine: the capacity search against the in-process server (production-like
/// configuration, real redis-server). Opt-in with `PERF_CAPACITY=1`, which `scripts/perf Capacity` sets (not part of
/// the gate: it runs for minutes and answers a question rather than checking one).
///
/// Knobs (environment): `PERF_CAPACITY_START` (req/s, default 2000), `PERF_CAPACITY_FACTOR` (default 1.5),
/// `PERF_CAPACITY_MAX` (default 60000), `PERF_CAPACITY_STEP_SECONDS` (default 10), `PERF_CAPACITY_USERS` (default 400).
/// The summary is attached and written as `capacity_*.json` into the results directory (so `loaddriver report` shows
/// it); each step's full result is attached too and goes to `capacity-steps/` beneath it.
extension PerformanceSuite {
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PERF_CAPACITY"] == "1", "opt-in: set PERF_CAPACITY=1"))
struct CapacitySearch {
    static func number(_ key: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[key].flatMap(Double.init) ?? fallback
    }

    /// Named after the scenario, as `scripts/perf` selects tests by function name.
    @Test(.timeLimit(.minutes(20)))
    func capacity() async throws {
        let environment = try PerformanceEnvironment.current()
        var logger = Logger(label: "capacity")
        logger.logLevel = .warning
        let users = Int(Self.number("PERF_CAPACITY_USERS", 400))
        try ResourceLimits.requireOpenFiles(users * 2 + 512, for: "the capacity search with \(users) users")

        let report = try await RedisServerProcess.withServer { redis in
            var server = PerformanceScenario.defaultServer
            server.redis = redis.endpoint
            let auth = try await AuthServer.start(server, logger: logger)
            do {
                let report = try await Self.search(port: auth.port, users: users, server: server, environment: environment, logger: logger)
                try await auth.shutdown()
                return report
            } catch {
                try? await auth.shutdown()
                throw error
            }
        }

        let summary = try CapacityFiles.write(report, named: CapacityFiles.reportFileName(), in: environment.resultsDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        Attachment.record(try encoder.encode(report), named: summary.lastPathComponent)
        print("capacity search, GET /auth/verify: \(report.conclusion)")
        for step in report.steps {
            let figures = String(format: "%8.0f req/s -> %8.0f achieved, p95 %8.2f ms, p99 %8.2f ms, failed %.2f%%",
                                 step.targetRate, step.achievedRate, step.latencyMs.p95, step.latencyMs.p99, step.failureRate * 100)
            print("  step \(step.index) \(step.phase.rawValue): \(figures) \(step.passed ? "held" : "broke: " + step.reasons.joined(separator: "; "))")
        }
        print("summary: \(summary.path)")
        #expect(!report.steps.isEmpty)
        #expect(report.highestPassingRate != nil, "\(report.conclusion)")
    }

    static func search(
        port: Int, users: Int, server: AuthServiceConfiguration, environment: PerformanceEnvironment, logger: Logger
    ) async throws -> CapacityReport {
        var runEnvironment = RunEnvironment()
        runEnvironment.extra = server.runEnvironmentFields
        let runner = LoadRunner.Configuration(
            target: Target(host: "127.0.0.1", port: port), eventLoopThreads: 1, poolMonitorPath: RequestTemplate.authPoolMetricsPath,
            logger: logger, environment: runEnvironment)
        let configuration = LoadDriver.CapacitySearch.Configuration(
            thresholds: ["p(95) < 50ms", "failureRate < 1%"],
            mix: [WeightedRequest(weight: 1, request: .authVerify)], setup: Scenario.authServiceSetup, users: users,
            startRate: number("PERF_CAPACITY_START", 2000), growth: .factor(number("PERF_CAPACITY_FACTOR", 1.5)),
            maxRate: number("PERF_CAPACITY_MAX", 60_000), stepSeconds: number("PERF_CAPACITY_STEP_SECONDS", 10),
            warmUpSeconds: 2, rampUpSeconds: max(1, Double(users) / 500), bisectionSteps: 3, maxSteps: 14,
            maxTotalSeconds: 900, name: "capacity-verify")
        let steps = environment.resultsDirectory.appendingPathComponent("capacity-steps", isDirectory: true)
        let search = LoadDriver.CapacitySearch(configuration, probe: try LoadRunnerProbe(runner), environment: runEnvironment)
        return try await search.run { step, result in
            let file = (try? result.write(toDirectory: steps))?.lastPathComponent
            if let data = try? result.jsonData() {
                Attachment.record(data, named: file ?? "capacity-step-\(step.index).json")
            }
            return file
        }
    }
}
}
