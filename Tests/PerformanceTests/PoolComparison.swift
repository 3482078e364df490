import AuthScenarios
import AuthServiceUnderTest
import Foundation
import LoadDriver
import PerformanceSupport
import Testing

extension PerformanceSuite {
    /// The seed's "Comparison to Baseline", with realistic unoptimized setups: 5,000 concurrent users (10 req/s each)
    /// against a connection per request and against a small default-sized pool, then against the optimized server
    /// (pool of 160, admission before the pool). The optimized side is gated on the seed's Ultimate thresholds (held at
    /// 5,000 users, not 2,000), on the deterministic gates, and on its improvement over a connection per request, both
    /// measured in the same run; every side's figures go in `pool_comparison.json`.
    @Suite
    struct PoolComparison {
        static let users = 5_000

        /// One side of the comparison: the seed's load, the server configured as `configure` says.
        static func side(_ name: String, configure: (inout AuthServiceConfiguration) -> Void) -> PerformanceScenario {
            var spec = PerformanceScenario(.authService(name: "PoolComparison-\(name)", users: Self.users))
            spec.comparesWithBaseline = false
            configure(&spec.server)
            return spec
        }

        /// A side measured only to compare with: its result is marked a reference, not gated.
        static func reference(_ name: String, configure: (inout AuthServiceConfiguration) -> Void) -> PerformanceScenario {
            var spec = side(name, configure: configure)
            spec.role = .reference
            return spec
        }

        /// What many services start with: a new Redis connection for every request, no limit in front.
        static let connectionPerRequest = reference("connectionPerRequest") { server in
            server.pool.reusesConnections = false
            server.pool.minimumConnections = 0
            server.maxConcurrentRequests = Self.unlimited
        }

        /// A common client default: 10 connections, callers wait up to 5 s for one, no limit in front.
        static let defaultPool = reference("defaultPool") { server in
            server.pool.maximumConnections = 10
            server.pool.minimumConnections = 10
            server.pool.acquireTimeout = .seconds(5)
            server.maxConcurrentRequests = Self.unlimited
        }

        /// The server as shipped, held to `Scenario.ultimate`'s thresholds.
        static let optimized: PerformanceScenario = {
            var spec = side("optimized") { _ in }
            spec.scenario.thresholds = Scenario.ultimate.thresholds
            return spec
        }()

        /// Admission that never queues: every request runs its handler at once.
        static let unlimited = 1_000_000

        struct Side: Codable {
            var name: String
            var maximumConnections: Int
            var reusesConnections: Bool
            var maxConcurrentRequests: Int
            var successRate: Double
            var achievedRate: Double
            /// Requests answered successfully per second.
            var successfulRate: Double
            var p95Ms: Double
            var p99Ms: Double
            var redisConnectionsCreated: Double?
            var peakPoolUtilization: Double?
            var acquireWaitP99Ms: Double?

            init(_ name: String, _ run: PerformanceRun, _ spec: PerformanceScenario) {
                let summary = run.result.summary
                self.name = name
                maximumConnections = spec.server.pool.maximumConnections
                reusesConnections = spec.server.pool.reusesConnections
                maxConcurrentRequests = spec.server.maxConcurrentRequests
                successRate = summary.successRate
                achievedRate = summary.achievedRate
                successfulRate = summary.achievedRate * summary.successRate
                // The seed's users: the response time they waited.
                p95Ms = summary.serviceTimeMs.p95
                p99Ms = summary.serviceTimeMs.p99
                redisConnectionsCreated = run.result.pool?.final["connectionsCreated"]
                peakPoolUtilization = run.result.pool?.peak["utilization"]
                acquireWaitP99Ms = run.result.pool?.final["acquireWaitMs.p99"]
            }
        }

        struct Comparison: Codable {
            var scenario: String
            var sides: [Side]
            /// Optimized over connection per request: successful requests per second (ours / theirs), and the failure
            /// rate (theirs − ours).
            var successfulRateGain: Double
            var failureRateReduction: Double
        }

        /// The improvement over a connection per request the optimized server must show.
        static let minimumSuccessfulRateGain = 2.0
        static let minimumFailureRateReduction = 0.10

        @Test(.timeLimit(.minutes(8)))
        func poolComparison() async throws {
            let environment = try PerformanceEnvironment.current()
            let perRequest = try await ScenarioCheck.measure(Self.connectionPerRequest, environment: environment)
            let small = try await ScenarioCheck.measure(Self.defaultPool, environment: environment)
            var optimized = try await ScenarioCheck.measure(Self.optimized, environment: environment)
            if !optimized.passed {
                // Its bar is absolute latency on a shared machine: a slow phase of the host (QuickValidation at half
                // its usual rate, 16% of the CPU stolen) once failed it. As for a baseline regression, the same bar is
                // applied to one more run, which decides; a real regression fails both. Both results are written.
                print("\(optimized.result.scenario.name): failed\(ScenarioCheck.machineState(optimized)); measuring once more to confirm:")
                for failure in optimized.failures { print("  first run: \(failure)") }
                try ScenarioCheck.supersede(&optimized)
                optimized = try await ScenarioCheck.measure(Self.optimized, environment: environment)
            }
            let sides = [
                Side("connection per request", perRequest, Self.connectionPerRequest),
                Side("pool of 10", small, Self.defaultPool),
                Side("optimized", optimized, Self.optimized),
            ]
            let comparison = Comparison(
                scenario: "\(Self.users) users at 10 req/s each (\(Self.users * 10) req/s offered)",
                sides: sides,
                successfulRateGain: sides[2].successfulRate / max(sides[0].successfulRate, 1),
                failureRateReduction: sides[2].successRate - sides[0].successRate)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(comparison)
            Attachment.record(data, named: "pool_comparison.json")
            try FileManager.default.createDirectory(at: environment.resultsDirectory, withIntermediateDirectories: true)
            try data.write(to: environment.resultsDirectory.appendingPathComponent("pool_comparison.json"))
            print(String(decoding: data, as: UTF8.self))

            #expect(
                comparison.successfulRateGain >= Self.minimumSuccessfulRateGain,
                "PoolComparison successfulRateGain \(comparison.successfulRateGain) < limit \(Self.minimumSuccessfulRateGain): optimized \(sides[2].successfulRate) vs connection per request \(sides[0].successfulRate) successful req/s")
            #expect(
                comparison.failureRateReduction >= Self.minimumFailureRateReduction,
                "PoolComparison failureRateReduction \(comparison.failureRateReduction) < limit \(Self.minimumFailureRateReduction): success \(sides[2].successRate) optimized vs \(sides[0].successRate) connection per request")
            // The optimized side's own bar: Ultimate's thresholds and the deterministic gates of every scenario.
            for failure in optimized.failures {
                Issue.record(Comment(rawValue: "\(optimized.result.scenario.name): \(failure)\(ScenarioCheck.machineState(optimized))"))
            }
        }
    }
}
