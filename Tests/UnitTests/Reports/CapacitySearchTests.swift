import AuthScenarios
import Foundation
import LoadDriver
import Synchronization
import Testing

/// A probe whose "server" has a latency knee: p95 is ~2 ms up to `knee` req/s and grows 0.05 ms per req/s beyond;
/// optionally the driver falls behind above `driverLimit`.
struct KneeProbe: CapacityProbe {
    final class Rates: Sendable {
        let rates = Mutex<[Double]>([])
        func withLock<T>(_ body: (inout [Double]) -> T) -> T { rates.withLock { body(&$0) } }
    }

    let knee: Double
    var driverLimit: Double = .infinity
    var failAllAbove: Double = .infinity
    /// How long a step pretends to take.
    var stepDelay: Duration = .zero
    /// Every rate asked for, in order.
    let asked = Rates()

    var targetDescription: String { "127.0.0.1:1" }

    func run(_ scenario: Scenario) async throws -> LoadTestResult {
        guard let rate = scenario.targetRate else { throw CancellationError() }
        asked.withLock { $0.append(rate) }
        if stepDelay > .zero { try await Task.sleep(for: stepDelay) }
        var result = ReportFixtures.result(name: scenario.name, users: scenario.users, seconds: 3, warmUp: 0, stall: false, pool: false, seed: UInt64(rate))
        result.scenario = scenario
        let p95 = 2 + max(0, rate - knee) * 0.05
        result.summary.latencyMs = LatencyStats(count: 100, min: 0.5, p50: p95 / 2, p75: p95 * 0.7, p90: p95 * 0.9, p95: p95, p99: p95 * 1.5, p999: p95 * 2, max: p95 * 3, mean: p95 / 2, stddev: 1)
        result.summary.targetRate = rate
        result.summary.achievedRate = rate > failAllAbove ? rate * 0.5 : rate * 0.995
        result.driver.driverLimited = rate > driverLimit
        result.driver.schedulingLagMs.p99 = rate > driverLimit ? 25 : 0.5
        try result.applyThresholds(scenario.thresholds)
        return result
    }
}

/// The capacity search's stepping, bisection, budgets and verdicts, with a fake probe (no network, instant).
@Suite struct CapacitySearchLogic {
    static func configuration(_ growth: CapacitySearch.Growth, start: Double = 1000, max: Double = 50_000) -> CapacitySearch.Configuration {
        CapacitySearch.Configuration(
            thresholds: ["p(95) < 50ms", "failureRate < 1%"], mix: [WeightedRequest(weight: 1, request: .authVerify)],
            users: 100, startRate: start, growth: growth, maxRate: max, stepSeconds: 1, bisectionSteps: 3, resolution: 0.05)
    }

    static func report(knee: Double, growth: CapacitySearch.Growth) async throws -> CapacityReport {
        try await CapacitySearch(configuration(growth), probe: KneeProbe(knee: knee)).run()
    }

    @Test func stepsUpThenBisectsToTheKnee() async throws {
        let probe = KneeProbe(knee: 4000)
        let report = try await CapacitySearch(Self.configuration(.step(1000)), probe: probe).run()
        // p95 = 2 + (rate - 4000) * 0.05 < 50 holds below 4,960 req/s.
        #expect(probe.asked.withLock { $0 } == [1000, 2000, 3000, 4000, 5000, 4500, 4750, 4880])
        #expect(report.highestPassingRate == 4880)
        #expect(report.lowestFailingRate == 5000)
        #expect(report.stopReason == .thresholdBroken)
        #expect(report.steps.map(\.phase) == [.ramp, .ramp, .ramp, .ramp, .ramp, .bisect, .bisect, .bisect])
        #expect(report.steps.map(\.passed) == [true, true, true, true, false, true, true, true])
        #expect(report.steps[4].reasons.first?.hasPrefix("p(95) < 50ms (actual 52.0 ms") == true)
        #expect(report.thresholds == ["p(95) < 50ms", "failureRate < 1%", "achievedRate >= 95%"])
        #expect(report.conclusion.hasPrefix("Held 4,880 req/s within every threshold; 5,000 req/s broke: p(95) < 50ms"))
        #expect(report.kind == "capacity")
    }

    @Test func geometricGrowthStopsAtTheMaximumRate() async throws {
        let report = try await CapacitySearch(Self.configuration(.factor(2), start: 500, max: 3000), probe: KneeProbe(knee: 1e9)).run()
        #expect(report.steps.map(\.targetRate) == [500, 1000, 2000, 3000])
        #expect(report.stopReason == .maxRateReached)
        #expect(report.highestPassingRate == 3000)
        #expect(report.lowestFailingRate == nil)
    }

    @Test func aRateTheServerCannotAbsorbDoesNotHold() async throws {
        // Latency stays fine but only half the asked rate is achieved above 2,500 req/s.
        var probe = KneeProbe(knee: 1e9)
        probe.failAllAbove = 2500
        var configuration = Self.configuration(.step(1000))
        configuration.bisectionSteps = 0
        let report = try await CapacitySearch(configuration, probe: probe).run()
        #expect(report.highestPassingRate == 2000)
        #expect(report.lowestFailingRate == 3000)
        #expect(report.steps.last?.reasons.contains { $0.hasPrefix("achievedRate >= 95%") } == true)
    }

    @Test func aStartRateThatBreaksIsHalvedUntilOneHolds() async throws {
        // Knee 1,000: p95 < 50 ms holds below 1,960 req/s.
        let probe = KneeProbe(knee: 1000)
        let report = try await CapacitySearch(Self.configuration(.step(1000), start: 6000), probe: probe).run()
        #expect(probe.asked.withLock { $0 } == [6000, 3000, 1500, 2250, 1880, 2070])
        #expect(report.steps.map(\.phase) == [.ramp, .descend, .descend, .bisect, .bisect, .bisect])
        #expect(report.highestPassingRate == 1880)
        #expect(report.lowestFailingRate == 2070)
        #expect(report.stopReason == .thresholdBroken)
    }

    @Test func nothingHoldsDownToTheMinimumRate() async throws {
        var configuration = Self.configuration(.step(1000), start: 6000)
        configuration.minimumRate = 2000
        let report = try await CapacitySearch(configuration, probe: KneeProbe(knee: 0)).run()
        #expect(report.steps.map(\.targetRate) == [6000, 3000])
        #expect(report.stopReason == .failedAtStartRate)
        #expect(report.highestPassingRate == nil)
        #expect(report.lowestFailingRate == 3000)
        #expect(report.conclusion.contains("Even the lowest rate tried, 3,000 req/s, broke"))
    }

    @Test func aDriverLimitedPassIsNotCountedAsCapacity() async throws {
        var probe = KneeProbe(knee: 1e9)
        probe.driverLimit = 2500
        let report = try await CapacitySearch(Self.configuration(.step(1000)), probe: probe).run()
        #expect(report.stopReason == .driverLimited)
        #expect(report.highestPassingRate == 2000)
        #expect(report.steps.last?.passed == false)
        #expect(report.conclusion.contains("driver is the limit"))
    }

    @Test func stepBudgetBoundsTheSearch() async throws {
        var configuration = Self.configuration(.step(100))
        configuration.maxSteps = 4
        let report = try await CapacitySearch(configuration, probe: KneeProbe(knee: 1e9)).run()
        #expect(report.steps.count == 4)
        #expect(report.stopReason == .maxStepsReached)
        #expect(report.highestPassingRate == 1300)
    }

    @Test func timeBudgetBoundsTheSearch() async throws {
        // Each step "takes" 0.5 s; a step is estimated at 1.2 s (0.2 s measured + 1 s setup allowance): a 2 s
        // budget fits two steps at most, never the ten the step budget would allow.
        var configuration = Self.configuration(.step(100))
        configuration.stepSeconds = 0.2
        configuration.warmUpSeconds = 0
        configuration.rampUpSeconds = 0
        configuration.maxSteps = 10
        configuration.maxTotalSeconds = 2
        var probe = KneeProbe(knee: 1e9)
        probe.stepDelay = .milliseconds(500)
        let report = try await CapacitySearch(configuration, probe: probe).run()
        #expect((1...2).contains(report.steps.count))
        #expect(report.stopReason == .timeBudgetExhausted)
    }

    @Test func invalidConfigurationsAreRefused() async throws {
        for bad in [
            CapacitySearch.Configuration(thresholds: [], mix: [WeightedRequest(weight: 1, request: .authVerify)]),
            CapacitySearch.Configuration(thresholds: ["p(95) <"], mix: [WeightedRequest(weight: 1, request: .authVerify)]),
            CapacitySearch.Configuration(thresholds: ["max < 1s"], mix: [WeightedRequest(weight: 1, request: .authVerify)], growth: .factor(1)),
            CapacitySearch.Configuration(thresholds: ["max < 1s"], mix: [WeightedRequest(weight: 1, request: .authVerify)], startRate: 100, maxRate: 50),
        ] {
            let probe = KneeProbe(knee: 1)
            await #expect(throws: LoadDriverError.self) { try await CapacitySearch(bad, probe: probe).run() }
            #expect(probe.asked.withLock { $0.isEmpty }, "nothing is sent for an invalid configuration")
        }
    }

    @Test func onlyLoopbackTargets() throws {
        #expect(throws: LoadDriverError.self) { try LoadRunnerProbe(LoadRunner.Configuration(target: Target(host: "10.1.2.3", port: 80), allowRemote: true)) }
        #expect(throws: LoadDriverError.self) { try LoadRunnerProbe(LoadRunner.Configuration(target: Target(host: "example.com", port: 80))) }
        _ = try LoadRunnerProbe(LoadRunner.Configuration(target: Target(host: "127.0.0.1", port: 8002)))
    }
}
