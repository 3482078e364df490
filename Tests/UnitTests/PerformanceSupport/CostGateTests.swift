import Foundation
import PerformanceSupport
import Testing

@Suite struct CostGateTests {
    static func counters(_ allocations: UInt64, _ cpu: UInt64, _ commands: Int) -> CostCounters {
        CostCounters(allocations: allocations, cpuNanoseconds: cpu, redisCommands: commands)
    }

    @Test func perRequestCancelsWhatABatchCostsOnce() {
        // Each batch costs 500 allocations, 1 ms of CPU and 3 commands once; each request 40, 150 µs and 1.
        let n = 100
        let before = Self.counters(10_000, 5_000_000, 7)
        let middle = Self.counters(10_000 + 500 + 40 * 100, 5_000_000 + 1_000_000 + 150_000 * 100, 7 + 3 + 100)
        let after = Self.counters(
            middle.allocations! + 500 + 40 * 200, middle.cpuNanoseconds + 1_000_000 + 150_000 * 200, middle.redisCommands + 3 + 200)
        let cost = EndpointCost.perRequest(
            before: before, middle: middle, after: after, n: n, cpuMicroseconds: 160, referenceCPUMicroseconds: 80,
            medianLatencyMicroseconds: 300)
        #expect(cost.allocations == 40)
        #expect(abs(cost.batchCPUMicroseconds - 150) < 1e-9)
        #expect(cost.normalizedCPU == 2)
        #expect(cost.redisCommands == 1)
    }

    @Test func withoutTheShimAllocationsAreNotReported() {
        let a = CostCounters(allocations: nil, cpuNanoseconds: 0, redisCommands: 0)
        let cost = EndpointCost.perRequest(
            before: a, middle: a, after: a, n: 10, cpuMicroseconds: 1, referenceCPUMicroseconds: 0, medianLatencyMicroseconds: 0)
        #expect(cost.allocations == nil)
        #expect(cost.normalizedCPU == 0)
    }

    @Test func spreadIsRangeOverMedian() {
        let spread = Spread([10, 12, 11, 9, 13])
        #expect(spread.median == 11)
        #expect(spread.minimum == 9 && spread.maximum == 13)
        #expect(abs(spread.relative - 4.0 / 11.0) < 1e-12)
        #expect(Spread([2, 4]).median == 3)
        #expect(Spread([]).relative == 0)
    }

    static func report(allocations: Double, cpu: Double, commands: Double) -> CostReport {
        let cost = EndpointCost(
            allocations: allocations, redisCommands: commands, batchCPUMicroseconds: cpu * 10, cpuMicroseconds: cpu * 10,
            referenceCPUMicroseconds: 10, medianLatencyMicroseconds: 200)
        return CostReport(
            recordedAt: "now", machine: "test", requestsPerBatch: ["verify": 100], runs: [CostRun(endpoints: ["verify": cost])])
    }

    @Test func aCleanMeasurementPasses() {
        let baseline = Self.report(allocations: 100, cpu: 10, commands: 1)
        let current = Self.report(allocations: 102, cpu: 11.4, commands: 1.04)
        let checks = CostGate.checks(current: current, baseline: baseline)
        #expect(checks.map(\.name) == ["cost.verify.allocations", "cost.verify.normalizedCPU", "cost.verify.redisCommands"])
        let failed = checks.filter { !$0.ok }.map(\.line)
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test func eachRegressionFailsItsOwnCheckAndNamesFigureBaselineAndLimit() {
        let baseline = Self.report(allocations: 100, cpu: 10, commands: 1)
        let moreAllocations = CostGate.checks(current: Self.report(allocations: 104, cpu: 10, commands: 1), baseline: baseline)
        #expect(moreAllocations.filter { !$0.ok }.map(\.name) == ["cost.verify.allocations"])
        let moreCPU = CostGate.checks(current: Self.report(allocations: 100, cpu: 12, commands: 1), baseline: baseline)
        let failed = moreCPU.filter { !$0.ok }
        #expect(failed.map(\.name) == ["cost.verify.normalizedCPU"])
        #expect(failed.first?.line == "FAIL cost.verify.normalizedCPU: 12.000 per request (baseline 10.000, limit 11.500 = +15%)")
        let extraRoundTrip = CostGate.checks(current: Self.report(allocations: 100, cpu: 10, commands: 2), baseline: baseline)
        #expect(extraRoundTrip.filter { !$0.ok }.map(\.name) == ["cost.verify.redisCommands"])
        let fewerCommands = CostGate.checks(current: Self.report(allocations: 100, cpu: 10, commands: 0.5), baseline: baseline)
        #expect(fewerCommands.filter { !$0.ok }.map(\.name) == ["cost.verify.redisCommands"])
    }

    /// A report of verify runs, each `(server CPU µs, reference CPU µs)`.
    static func runs(_ runs: [(cpu: Double, reference: Double)]) -> CostReport {
        CostReport(recordedAt: "now", machine: "test", requestsPerBatch: [:], runs: runs.map { run in
            CostRun(endpoints: ["verify": EndpointCost(
                allocations: 100, redisCommands: 1, batchCPUMicroseconds: run.cpu, cpuMicroseconds: run.cpu,
                referenceCPUMicroseconds: run.reference, medianLatencyMicroseconds: 200)])
        })
    }

    @Test func theSpreadAllowanceComesFromTheQuieterHalfAndIsCapped() {
        let spread = Spread([1.70, 1.72, 1.73, 1.75, 5.26])
        #expect(abs(spread.innerRelative - 0.03 / 1.73) < 1e-9)
        #expect(spread.relative > 2)
        // Quieter half (lowest absolute CPU): ratios 5, 8, 10 -> median 8, spread 62.5%, allowance capped at 40%.
        let baseline = Self.runs([(50, 10), (80, 10), (100, 10), (140, 10), (300, 10)])
        let check = CostGate.checks(current: Self.report(allocations: 100, cpu: 11.5, commands: 1), baseline: baseline)
            .first { $0.name == "cost.verify.normalizedCPU" }
        #expect(check?.ok == false, "the allowance is capped at 40% of the baseline (8): limit 11.2")
        #expect(abs((check?.limit ?? 0) - 11.2) < 1e-9)
    }

    /// A baseline run with an unusually low ratio came from a noisy moment (its absolute CPU is high): it is not in
    /// the quieter half, so it does not set the limit.
    @Test func oneOutlierLowBaselineRunDoesNotTightenTheLimit() throws {
        #expect(Spread([1.2, 1.71, 1.72, 1.73, 1.74]).floor == 1.71)
        #expect(Spread([1.2, 1.71]).floor == 1.2)
        let baseline = Self.runs([(12, 15), (10, 10), (10.1, 10), (10.2, 10), (10.3, 10)])
        let check = try #require(CostGate.checks(current: Self.report(allocations: 100, cpu: 1.1, commands: 1), baseline: baseline)
            .first { $0.name == "cost.verify.normalizedCPU" })
        #expect(check.ok && abs(check.baseline - 1.01) < 1e-9 && abs(check.limit - 1.01 * 1.15) < 1e-9, "\(check.line)")
        // A file written before `floor` existed reads it as the minimum.
        let old = #"{"median":2,"minimum":1,"maximum":3,"relative":1,"innerRelative":1}"#
        let decoded = try JSONDecoder().decode(Spread.self, from: Data(old.utf8))
        #expect(decoded.floor == 1)
    }

    /// Times are judged on the quietest run: runs slowed by a noisy neighbour pass while one run is clean; a
    /// regression in the code moves every run and fails.
    @Test func timesAreJudgedOnTheQuietestRun() {
        func report(_ cpus: [Double]) -> CostReport {
            let runs = cpus.map { cpu in
                CostRun(endpoints: ["verify": EndpointCost(
                    allocations: 100, redisCommands: 1, batchCPUMicroseconds: cpu * 10, cpuMicroseconds: cpu * 10,
                    referenceCPUMicroseconds: 10, medianLatencyMicroseconds: 200)])
            }
            return CostReport(recordedAt: "now", machine: "test", requestsPerBatch: [:], runs: runs)
        }
        let baseline = report([1.71, 1.72, 1.73, 1.74, 1.75])
        let noisy = CostGate.checks(current: report([1.74, 2.1, 2.3, 2.6, 2.2]), baseline: baseline)
        #expect(noisy.filter { !$0.ok }.isEmpty, "\(noisy.filter { !$0.ok }.map(\.line))")
        let regressed = CostGate.checks(current: report([2.05, 2.1, 2.12, 2.2, 2.6]), baseline: baseline)
        #expect(regressed.filter { !$0.ok }.map(\.line) == [
            "FAIL cost.verify.normalizedCPU: 2.050 per request (baseline 1.720, limit 1.978 = +15%)"
        ])
    }

    /// A burst that slows the reference more than the endpoint lowers their ratio in that run: the gate reads the run
    /// with the lowest absolute CPU, so such a run can neither hide a regression nor tighten the baseline.
    @Test func aNoisyRunWithALowRatioNeitherHidesARegressionNorTightensTheLimit() {
        // Quiet runs at 2.39-2.56 x the reference; the noisy ones (higher absolute CPU) at ~2.0.
        let baseline = Self.runs([(45.9, 19.0), (46.2, 19.33), (47.2, 19.46), (48.5, 19.59), (48.5, 19.42), (49.0, 19.16),
                               (50.0, 19.76), (50.1, 19.71), (50.9, 25.25), (53.0, 26.2)])
        let baseCPU = QuietRuns.baseline(baseline.runs.compactMap { $0.endpoints["verify"] }, quietness: \.cpuMicroseconds,
                                         figure: { $0.normalizedCPU })
        #expect(abs((baseCPU ?? 0) - 2.426) < 0.01, "the median of the five quietest runs' ratios")
        // ~20% more CPU in verify's path: every quiet run moves; one noisy run reads 2.56.
        let regressed = Self.runs([(59.0, 19.04), (60.8, 20.82), (56.6, 19.32), (55.4, 18.62), (70.7, 27.59)])
        #expect(CostGate.checks(current: regressed, baseline: baseline).filter { !$0.ok }.map(\.name) == ["cost.verify.normalizedCPU"])
        let clean = Self.runs([(84.6, 38.6), (56.0, 24.0), (46.9, 19.2), (53.7, 27.1), (46.0, 19.13)])
        #expect(CostGate.checks(current: clean, baseline: baseline).filter { !$0.ok }.isEmpty)
    }

    @Test func aSlowerUnloadedRequestFailsTheLatencyCheck() {
        func report(latency: Double) -> CostReport {
            var cost = EndpointCost(
                allocations: 100, redisCommands: 1, batchCPUMicroseconds: 100, cpuMicroseconds: 100,
                referenceCPUMicroseconds: 10, medianLatencyMicroseconds: 200)
            cost.normalizedLatency = latency
            return CostReport(recordedAt: "now", machine: "test", requestsPerBatch: [:], runs: [CostRun(endpoints: ["verify": cost])])
        }
        let checks = CostGate.checks(current: report(latency: 9.5), baseline: report(latency: 1.7))
        #expect(checks.filter { !$0.ok }.map(\.name) == ["cost.verify.normalizedLatency"])
        let clean = CostGate.checks(current: report(latency: 2.4), baseline: report(latency: 1.7)).filter { !$0.ok }
        #expect(clean.isEmpty)
    }

    @Test func anEndpointMissingFromTheMeasurementFails() {
        let baseline = Self.report(allocations: 100, cpu: 10, commands: 1)
        var current = baseline
        current.endpoints = [:]
        #expect(CostGate.checks(current: current, baseline: baseline).map(\.ok) == [false])
    }
}

/// One cost baseline per machine: the file a machine's name maps to.
@Suite("Cost baselines per machine")
struct CostBaselinesTests {
    @Test func machineNamesMapToStableFileNames() {
        #expect(CostBaselines.fileName(forMachine: "AMD EPYC, 2 cores") == "amd-epyc-2-cores.json")
        #expect(CostBaselines.fileName(forMachine: "Intel(R) Xeon(R) Processor, 2 cores") == "intel-r-xeon-r-processor-2-cores.json")
        #expect(CostBaselines.fileName(forMachine: "  ,, ") == "unknown-machine.json")
    }

    @Test func aDirectoryResolvesToTheMachinesFileAndAFileToItself() {
        #expect(CostBaselines.file(at: "Baselines/cost", machine: "AMD EPYC, 2 cores").hasSuffix("Baselines/cost/amd-epyc-2-cores.json"))
        #expect(CostBaselines.file(at: "/tmp/mine.json", machine: "AMD EPYC, 2 cores") == "/tmp/mine.json")
    }

    @Test func theCommittedBaselinesAreEachRecordedOnTheMachineTheirFileNames() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../Baselines/cost").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty)
        for file in files {
            let report = try JSONDecoder().decode(CostReport.self, from: Data(contentsOf: directory.appendingPathComponent(file)))
            #expect(CostBaselines.fileName(forMachine: report.machine) == file, "\(file) holds \(report.machine)")
        }
    }
}
