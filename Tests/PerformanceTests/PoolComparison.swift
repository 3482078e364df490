import Foundation
import LoadDriver
import PerformanceSupport
import Testing

extension PerformanceSuite {
    /// The seed's "Comparison to Baseline": the Stress load against an unoptimized pool and against the optimized
    /// pool of 160. The optimized pool must win on failure rate and on p95 by a clear margin.
    @Suite
    struct PoolComparison {
        /// The unoptimized setup the seed started from: a handful of connections and callers that give up quickly.
        static var unoptimizedServer: PerformanceScenario {
            var spec = PerformanceSuite.SeedScenarios.stress
            spec.scenario.name = "PoolComparison-unoptimized"
            spec.scenario.thresholds = []  // measured, not gated: it is expected to fail
            spec.server.pool.maximumConnections = 4
            spec.server.pool.minimumIdleConnections = 0
            spec.server.pool.acquireTimeout = .milliseconds(20)
            spec.server.pool.maximumWaiters = 64
            spec.comparesWithBaseline = false
            return spec
        }

        static var optimizedServer: PerformanceScenario {
            var spec = PerformanceSuite.SeedScenarios.stress
            spec.scenario.name = "PoolComparison-optimized"
            spec.comparesWithBaseline = false
            spec.knownShortfall = PerformanceSuite.SeedScenarios.capacityShortfall
            return spec
        }

        struct Side: Codable {
            var maximumConnections: Int
            var failureRate: Double
            var p95Ms: Double
            var p99Ms: Double
            var achievedRate: Double
            var peakPoolUtilization: Double?
            var peakWaiters: Double?

            init(_ run: PerformanceRun, maximumConnections: Int) {
                let s = run.result.summary
                self.maximumConnections = maximumConnections
                failureRate = s.failureRate
                p95Ms = s.latencyMs.p95
                p99Ms = s.latencyMs.p99
                achievedRate = s.achievedRate
                peakPoolUtilization = run.result.pool?.peak["utilization"]
                peakWaiters = run.result.pool?.peak["waiters"]
            }
        }

        struct Comparison: Codable {
            var scenario: String
            var unoptimized: Side
            var optimized: Side
            var failureRateReduction: Double
            var p95Speedup: Double
        }

        @Test(.timeLimit(.minutes(6)))
        func poolComparison() async throws {
            let environment = try PerformanceEnvironment.current()
            let unoptimized = try await ScenarioCheck.measure(Self.unoptimizedServer, environment: environment)
            let optimized = try await ScenarioCheck.run(Self.optimizedServer, environment: environment)
            let comparison = Comparison(
                scenario: "Stress: 1,000 users, 10,000 req/s",
                unoptimized: Side(unoptimized, maximumConnections: Self.unoptimizedServer.server.pool.maximumConnections),
                optimized: Side(optimized, maximumConnections: Self.optimizedServer.server.pool.maximumConnections),
                failureRateReduction: unoptimized.result.summary.failureRate - optimized.result.summary.failureRate,
                p95Speedup: unoptimized.result.summary.latencyMs.p95 / max(optimized.result.summary.latencyMs.p95, 0.001))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(comparison)
            Attachment.record(data, named: "pool_comparison.json")
            try FileManager.default.createDirectory(at: environment.resultsDirectory, withIntermediateDirectories: true)
            try data.write(to: environment.resultsDirectory.appendingPathComponent("pool_comparison.json"))
            print(String(decoding: data, as: UTF8.self))

            // A clear margin: at least 1 percentage point fewer failures and at most half the p95.
            #expect(
                comparison.failureRateReduction >= 0.01,
                "optimized pool should fail at least 1 point less often: \(comparison.unoptimized.failureRate) vs \(comparison.optimized.failureRate)")
            // Only meaningful when the optimized server holds the Stress rate; while it saturates (issue 6) its p95 is
            // queueing delay and the unoptimized one fails fast, so the p95 margin is a known issue.
            let shortfall = PerformanceSuite.SeedScenarios.capacityShortfall
            withKnownIssue(Comment(rawValue: shortfall.reason), isIntermittent: true) {
                #expect(
                    comparison.p95Speedup >= 2,
                    "optimized pool p95 should be at most half: \(comparison.unoptimized.p95Ms) ms vs \(comparison.optimized.p95Ms) ms")
            } when: {
                !optimized.result.thresholds.allSatisfy(\.ok) && shortfall.machineWasSaturated(optimized.result) == true
            }
        }
    }
}
