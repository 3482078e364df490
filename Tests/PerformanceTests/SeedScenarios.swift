import AuthScenarios
import LoadDriver
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
    // One definition each, with their thresholds: `Scenario.quick`, `.baseline`, `.stress`, `.ultimate`, `.stressOpen`
    // (AuthScenarios).
    static let quickValidation = PerformanceScenario.requestCount(
        Scenario.quick.name, users: Scenario.quick.users, requests: Scenario.quick.maxRequests ?? 1_000,
        thresholds: Scenario.quick.thresholds)
    static let baseline = PerformanceScenario(.baseline)
    static let stress = PerformanceScenario(.stress)
    static let ultimate = PerformanceScenario(.ultimate)
    static let stressOpen = PerformanceScenario(.stressOpen)

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

    /// Stress as open arrivals: latency from each request's intended send time, p95 < 50 ms.
    @Test(.timeLimit(.minutes(4)))
    func stressOpen() async throws {
        try await ScenarioCheck.run(Self.stressOpen)
    }
}
}
