import AuthScenarios
import Foundation
import Histogram
import LoadDriver
import Testing

@Suite("LoadDriver statistics and result JSON")
struct StatisticsTests {
    /// Uniform 1...10,000 µs: the k-th percentile is k% of 10 ms, within HdrHistogram's 3-digit precision.
    @Test func percentilesOfAUniformDistribution() {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for v in 1...10_000 { h.record(UInt64(v)) }
        let s = LatencyStats(microseconds: h)
        #expect(s.count == 10_000)
        for (actual, expected) in [(s.p50, 5.0), (s.p75, 7.5), (s.p90, 9.0), (s.p95, 9.5), (s.p99, 9.9), (s.p999, 9.99)] {
            #expect(abs(actual - expected) <= expected * 0.002, "got \(actual), expected \(expected)")
        }
        #expect(abs(s.max - 10.0) <= 0.01)
        #expect(abs(s.min - 0.001) < 1e-9)
        #expect(abs(s.mean - 5.0005) < 0.01)
        // stddev of a discrete uniform distribution 1...n is sqrt((n^2 - 1) / 12).
        #expect(abs(s.stddev - (Double(10_000 * 10_000 - 1) / 12).squareRoot() / 1000) < 0.01)
    }

    @Test func percentileDistributionIsMonotonicAndComplete() {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for v in 1...1_000 { h.record(UInt64(v * 10)) }
        let points = h.percentileDistribution()
        #expect(points.count > 20)
        #expect(points.last?.percentile == 100)
        #expect(points.last?.totalCount == 1_000)
        #expect(abs((points.last?.valueMs ?? 0) - 10) < 0.01)
        for (a, b) in zip(points, points.dropFirst()) {
            #expect(a.percentile <= b.percentile)
            #expect(a.valueMs <= b.valueMs)
        }
        // The 50% point sits at the median.
        let median = points.first { $0.percentile >= 50 }!
        #expect(abs(median.valueMs - 5) < 0.02)
    }

    @Test func emptyHistogramGivesZeros() {
        let s = LatencyStats(microseconds: Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 1000, numberOfSignificantValueDigits: .three))
        #expect(s == LatencyStats())
    }

    @Test func resultJSONRoundTrip() throws {
        let result = SampleResults.make()
        let data = try result.jsonData()
        let decoded = try LoadTestResult.decode(from: data)
        #expect(decoded == result)
        // Required names are present.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["schemaVersion", "scenario", "environment", "summary", "endpoints", "statusCodes", "errors", "timeSeries",
                    "pool", "driver", "thresholds", "passed", "latencyDistribution"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let summary = try #require(object["summary"] as? [String: Any])
        let latency = try #require(summary["latencyMs"] as? [String: Any])
        for key in ["p50", "p75", "p90", "p95", "p99", "p999", "max", "mean", "stddev"] { #expect(latency[key] != nil) }
        for key in ["requests", "succeeded", "failed", "successRate", "targetRate", "achievedRate", "serviceTimeMs"] {
            #expect(summary[key] != nil)
        }
        let pool = try #require(object["pool"] as? [String: Any])
        #expect(pool["initial"] != nil && pool["final"] != nil && pool["peak"] != nil)
        let scenario = try #require(object["scenario"] as? [String: Any])
        #expect(scenario["name"] as? String == "Baseline")
        #expect(scenario["users"] as? Int == 500)
        #expect(object["schemaVersion"] as? Int == 1)
    }

    @Test func scenarioJSONRoundTripAndFileName() throws {
        for scenario in [Scenario.quick, .baseline, .stress, .ultimate] {
            let data = try JSONEncoder().encode(scenario)
            #expect(try JSONDecoder().decode(Scenario.self, from: data) == scenario)
            try scenario.validate()
        }
        let ramp = Scenario(name: "ramp", users: 10, load: .rampingArrivalRate(startRate: 0, stages: [.init(durationSeconds: 5, targetRate: 100)]),
                            mix: [.init(weight: 1, request: .authVerify)])
        #expect(try JSONDecoder().decode(Scenario.self, from: JSONEncoder().encode(ramp)) == ramp)

        let result = SampleResults.make()
        let date = Date(timeIntervalSince1970: 1_767_225_600 + 3_661)  // 2026-01-01 01:01:01 UTC
        #expect(result.fileName(date: date) == "load_test_Baseline_500users_20260101_010101.json")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loaddriver-test-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try result.write(toDirectory: dir, date: date)
        #expect(try LoadTestResult.load(from: url) == result)
        #expect(result.summaryTable().contains("RESULT: PASSED"))
    }

    @Test func seedScenariosMatchTheIssue() {
        #expect(Scenario.quick.users == 100 && Scenario.quick.maxRequests == 1_000)
        #expect(Scenario.baseline.users == 500 && Scenario.baseline.targetRate == 5_000)
        #expect(Scenario.stress.users == 1_000 && Scenario.stress.targetRate == 10_000)
        #expect(Scenario.ultimate.users == 2_000 && Scenario.ultimate.targetRate == 20_000)
        #expect(Scenario.baseline.durationSeconds == 30)
        let weights = Dictionary(uniqueKeysWithValues: Scenario.baseline.mix.map { ($0.request.name, $0.weight) })
        #expect(weights == ["verify": 90, "login": 5, "refresh": 5])
        #expect(Scenario.named("Stress") == .stress)
    }

    @Test func targetParsingAndLoopbackPolicy() throws {
        #expect(try Target(url: "http://127.0.0.1:8002") == Target(host: "127.0.0.1", port: 8002))
        #expect(try Target(url: "http://localhost:80/").isLoopback)
        #expect(try Target(url: "http://localhost") == Target(host: "localhost", port: 80))
        // A path would be dropped silently: it is refused, and the message says where paths go.
        for url in ["http://localhost:80/x", "http://127.0.0.1:8002/api/v1", "http://127.0.0.1:8002?q=1"] {
            let error = #expect(throws: LoadDriverError.self) { try Target(url: url) }
            #expect(error?.code == .invalidTarget)
            #expect(error?.description.contains("mix") == true, "\(error.map(String.init(describing:)) ?? "")")
        }
        #expect(try Target(url: "http://[::1]:9000").isLoopback)
        #expect(try Target(url: "http://127.5.6.7:1").isLoopback)
        #expect(try !Target(url: "http://10.0.0.1:8002").isLoopback)
        #expect(try !Target(url: "http://example.com:8002").isLoopback)
        #expect(throws: LoadDriverError.self) { try Target(url: "https://127.0.0.1:8443") }
        #expect(throws: LoadDriverError.self) { try Target(url: "http://127.0.0.1:notaport") }
    }

    @Test func jsonFlatteningOfPoolMetrics() {
        let json = #"{"utilization":0.25,"inUse":4,"name":"x","nested":{"waiters":3,"deeper":{"p99":1.5}},"list":[1,2],"ok":true}"#
        let fields = JSONFlattening.numericFields(of: Data(json.utf8))
        #expect(fields?["utilization"] == 0.25)
        #expect(fields?["inUse"] == 4)
        #expect(fields?["nested.waiters"] == 3)
        #expect(fields?["nested.deeper.p99"] == 1.5)
        #expect(fields?["name"] == nil)
        #expect(fields?["list"] == nil)
    }
}

@Suite("Machine CPU from /proc/stat")
struct MachineCPUTests {
    @Test func parsesTheAggregateLineAndComputesShares() throws {
        let before = try #require(MachineCPU(procStat: "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1\n"))
        // +300 user, +100 system, +20 softirq, +60 idle, +20 steal over 500 jiffies.
        let after = try #require(MachineCPU(procStat: "cpu  400 0 150 860 50 0 20 20 0 0\n"))
        let usage = try #require(after.usage(since: before, cpus: 2))
        #expect(usage.cpus == 2)
        #expect(abs(usage.busyPercent - 84) < 1e-9)
        #expect(abs(usage.stealPercent - 4) < 1e-9)
    }

    @Test func aCounterThatWentBackwardsCountsAsZero() throws {
        // iowait (part of idle) is not monotonic on Linux; the shares must stay within 0...100 anyway.
        let before = try #require(MachineCPU(procStat: "cpu  100 0 0 800 90 0 0 0 0 0\n"))
        let after = try #require(MachineCPU(procStat: "cpu  200 0 0 805 10 0 0 0 0 0\n"))
        let usage = try #require(after.usage(since: before, cpus: 2))
        #expect(usage.busyPercent == 100 && usage.stealPercent == 0)
        #expect(before.usage(since: before, cpus: 2) == nil)
    }

    @Test func ticksTheKernelDidNotCountAreBusyTime() throws {
        // 2 s on 2 CPUs = 400 jiffies, but only 150 were counted: idle (60) and steal (10) are exact, the rest was busy.
        let before = try #require(MachineCPU(procStat: "cpu  100 0 0 800 0 0 0 0 0 0\n", at: 1_000_000_000))
        let after = try #require(MachineCPU(procStat: "cpu  180 0 0 860 0 0 0 10 0 0\n", at: 3_000_000_000))
        let usage = try #require(after.usage(since: before, cpus: 2))
        #expect(abs(usage.busyPercent - 82.5) < 1e-9)
        #expect(abs(usage.stealPercent - 2.5) < 1e-9)
    }

    @Test func rejectsWhatIsNotProcStat() {
        #expect(MachineCPU(procStat: "") == nil)
        #expect(MachineCPU(procStat: "cpu0 1 2 3 4\n") == nil)
        #expect(MachineCPU(procStat: "cpu  1 2\n") == nil)
    }

    @Test func readsThisMachineOnLinux() {
        #if os(Linux)
        let now = MachineCPU.now()
        #expect(now.map { $0.busy + $0.idle > 0 && $0.at > 0 } == true)
        #endif
    }
}

@Suite("Per-second CPU of the time series")
struct CPUMonitorTests {
    private func sample(_ second: Int, atMs: Int64, busy: UInt64, idle: UInt64, steal: UInt64 = 0, process: Double)
        -> CPUMonitor.Sample
    {
        CPUMonitor.Sample(
            second: second, at: atMs * 1_000_000, machine: MachineCPU(busy: busy, idle: idle, steal: steal),
            processSeconds: process)
    }

    @Test func eachSecondGetsTheCPUBetweenItsSampleAndTheNext() throws {
        let samples = [
            sample(0, atMs: 0, busy: 0, idle: 0, process: 0),
            // Second 0: 150 of 200 jiffies busy, 10 stolen; the process used 1.2 s of CPU in 1 s.
            sample(1, atMs: 1_000, busy: 150, idle: 40, steal: 10, process: 1.2),
            // Second 1's sample ran 500 ms late (a stall): its interval is the real 1.5 s, and it stays second 1.
            sample(2, atMs: 2_500, busy: 450, idle: 40, steal: 10, process: 3.0),
            // A final sample 50 ms later closes nothing measurable.
            sample(3, atMs: 2_550, busy: 460, idle: 40, steal: 10, process: 3.05),
        ]
        let seconds = CPUMonitor.perSecond(samples, cpus: 2)
        #expect(seconds.keys.sorted() == [0, 1])
        let first = try #require(seconds[0])
        #expect(abs(first.cpuPercent - 120) < 1e-9)
        #expect(abs((first.machine?.busyPercent ?? 0) - 75) < 1e-9)
        #expect(abs((first.machine?.stealPercent ?? 0) - 5) < 1e-9)
        let second = try #require(seconds[1])
        #expect(abs(second.cpuPercent - 120) < 1e-9)
        #expect(abs((second.machine?.busyPercent ?? 0) - 100) < 1e-9)
    }

    @Test func withoutProcStatOnlyTheProcessCPUIsReported() throws {
        let samples = [
            CPUMonitor.Sample(second: 0, at: 0, machine: nil, processSeconds: 0),
            CPUMonitor.Sample(second: 1, at: 2_000_000_000, machine: nil, processSeconds: 1),
        ]
        let only = try #require(CPUMonitor.perSecond(samples, cpus: 2)[0])
        #expect(only.machine == nil)
        #expect(abs(only.cpuPercent - 50) < 1e-9)
    }
}

@Suite("Driver lag summary")
struct LagSummaryTests {
    @Test func noTimerReleasedSendMeansNoLagToShowNotZero() {
        let none = DriverReport.LagStats(count: 0, p50: 0, p99: 0, max: 0)
        #expect(none.summary.hasPrefix("n/a"))
        let some = DriverReport.LagStats(count: 10, p50: 0.6, p99: 2.25, max: 7.5)
        #expect(some.summary == "p50 0.600 ms, p99 2.250 ms, max 7.500 ms")
    }

    /// A saturated driver loop reads responses late, and the lag cannot show it when every slot finds its connection
    /// busy: the loop's own CPU flags it.
    @Test func aBusyEventLoopMakesTheRunDriverLimited() {
        var driver = SampleResults.make().driver
        driver.driverLimited = false
        driver.driverLimitedReason = nil
        driver.applyLoopCPU([35, 62], bound: 90)
        #expect(!driver.driverLimited)
        #expect(driver.loopCPUPercent == [35, 62])
        driver.applyLoopCPU([35, 96.4], bound: 90)
        #expect(driver.driverLimited)
        #expect(driver.limitDescription == "event loop 1 at 96% of a core (bound 90%)")
        // Both rules: the reasons add up.
        driver.driverLimitedReason = "scheduling lag p99 12.0 ms (bound 10.0 ms)"
        driver.applyLoopCPU([97], bound: 90)
        #expect(driver.limitDescription == "scheduling lag p99 12.0 ms (bound 10.0 ms); event loop 0 at 97% of a core (bound 90%)")
    }
}

@Suite("Loopback calibration in comparisons")
struct LoopbackComparisonTests {
    @Test func machinesFarApartAreFlaggedInTheComparison() {
        #expect(BaselineComparison.machineNote(current: 20_000, baseline: 15_000) == nil, "1.33x: the same kind")
        #expect(BaselineComparison.machineNote(current: 10_000, baseline: 14_000) == nil)
        #expect(BaselineComparison.machineNote(current: nil, baseline: 15_000) == nil, "unknown: no claim")
        let slower = BaselineComparison.machineNote(current: 8_000, baseline: 20_000)
        #expect(slower?.contains("0.40x") == true)
        #expect(BaselineComparison.machineNote(current: 40_000, baseline: 20_000) != nil)

        var baseline = SampleResults.make()
        var current = baseline
        baseline.environment.loopbackRoundTripsPerSecond = 30_000
        current.environment.loopbackRoundTripsPerSecond = 12_000
        let comparison = BaselineComparison(current: current, baseline: baseline)
        #expect(comparison.machineNote != nil)
        #expect(comparison.table().contains("note: this machine did 12000 loopback round trips/s"))
    }
}
