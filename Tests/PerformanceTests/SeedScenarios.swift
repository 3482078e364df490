import PerformanceSupport
import Testing

/// Every load test of the package lives under this one serialized suite (its nested suites included), so scenarios
/// never overlap each other or run beside anything else in this target.
@Suite(.serialized)
struct PerformanceSuite {}

extension PerformanceSuite {
/// The seed's load scenarios, gated. QuickValidation runs first (the seed's pre-test validation).
///
/// Each test boots the pooled auth server in-process against its own redis-server, drives it with the LoadDriver,
/// asserts its thresholds plus the deterministic gates (Redis commands per request, connections opened, leaked
/// leases) and the stored baseline, and attaches its JSON result.
@Suite
struct SeedScenarios {
    //                                              users   load                      thresholds
    static let quickValidation = PerformanceScenario.requestCount(
        "QuickValidation", users: 100, requests: 1_000,
        thresholds: ["successRate >= 100%"])
    static let baseline = PerformanceScenario.pacedUsers(
        "Baseline", users: 500, ratePerUser: 10, seconds: 30,
        thresholds: [
            "successRate > 99%", "p(95) < 500ms", "pool.utilization < 50%", "achievedRate >= 95%",
            // Pool health beside utilization: callers rarely wait for a connection (clean runs: p99 up to ~80 ms
            // when the machine stalls). A slow lease is the cost gate's (cost.*.normalizedLatency).
            "pool.acquireWaitMs.p99 < 250ms",
        ])
    static let stress = PerformanceScenario.pacedUsers(
        "Stress", users: 1_000, ratePerUser: 10, seconds: 30,
        thresholds: ["successRate > 98%", "p(95) < 800ms", "pool.utilization < 60%", "achievedRate >= 95%"]
    ).knownShortfall(Self.capacityShortfall)
    static let ultimate = PerformanceScenario.pacedUsers(
        "Ultimate", users: 2_000, ratePerUser: 10, seconds: 30,
        thresholds: ["successRate > 95%", "p(95) < 1200ms", "pool.utilization < 80%", "achievedRate >= 95%"]
    ).knownShortfall(Self.capacityShortfall)

    /// Issue 6, blocked by this machine's CPU: with server, driver and Redis on 2 cores the in-process server
    /// saturates at about 4,500-8,000 req/s, so Stress and Ultimate miss their rate, latency and pool thresholds. They still run at full users and
    /// rate, and their figures are printed and attached. Only those failures, and only with the machine saturated, are
    /// recorded as this known issue; the success rate and the deterministic gates still gate.
    static let capacityShortfall = KnownShortfall(
        "known shortfall (issue 6, blocked by the machine's CPU): the in-process server saturates the 2 cores at ~4,500-8,000 req/s, below this scenario's target")

    @Test(.timeLimit(.minutes(3)))
    func quickValidation() async throws {
        try await ScenarioCheck.run(Self.quickValidation)
    }

    @Test(.timeLimit(.minutes(4)))
    func baseline() async throws {
        try await ScenarioCheck.run(Self.baseline)
    }

    @Test(.timeLimit(.minutes(4)))
    func stress() async throws {
        try await ScenarioCheck.run(Self.stress)
    }

    @Test(.timeLimit(.minutes(5)))
    func ultimate() async throws {
        try await ScenarioCheck.run(Self.ultimate)
    }
}
}
