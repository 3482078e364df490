import ArgumentParser
import Foundation
import NIOPosix
import PerformanceSupport

#if canImport(Glibc)
import Glibc
import RedisPool
#endif

/// `cost-gate measure`: runs the probe `--runs` times, each against a fresh server process, and compares with the
/// baseline (``CostGate``).
struct MeasureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure every endpoint's per-request cost and compare with the baseline (the default command).",
        discussion: """
            Each run starts the service in its own process (`cost-gate serve`, with the malloc-counter shim preloaded
            when --malloc-counter is given) against a redis-server this command starts, then, on one keep-alive
            connection, one request at a time per endpoint: a warm-up, a batch of N requests and a batch of 2N
            (per request = ((cost of 2N) - (cost of N)) / N: allocations, Redis commands), then N requests each
            alternated with a reference request (GET /health/live; for /health/live a redis PING): the server's
            CPU (schedstat) and the latency per request, divided by the reference's.
            """)

    @Option(help: "Independent runs, each with a fresh server process.")
    var runs = 5
    @Option(help: "Requests in the first batch of each endpoint (the second has twice as many).")
    var batch = 1_000
    @Option(help: "Batch size for the endpoints that hash a password (login, register, logout).")
    var hashingBatch = 200
    @Option(help: "The malloc-counter shim (.so) to preload into the server; without it allocations are not counted.")
    var mallocCounter: String?
    @Option(help: "Baselines directory, one file per machine (or one .json file) to compare with or to write with --update-baseline.")
    var baseline = "Baselines/cost"
    @Flag(help: "Write this measurement as the baseline instead of comparing.")
    var updateBaseline = false
    @Option(help: "Also write the full report (every run) to this JSON file.")
    var output: String?
    @Flag(inversion: .prefixedNo, help: "When a check fails, measure --runs more runs and judge all of them together.")
    var confirm = true

    func validate() throws {
        guard runs >= 1, batch >= 10, hashingBatch >= 10 else {
            throw ValidationError("--runs must be >= 1, --batch and --hashing-batch >= 10")
        }
        if let mallocCounter, !FileManager.default.fileExists(atPath: mallocCounter) {
            throw ValidationError("--malloc-counter \(mallocCounter): no such file (scripts/cost builds it)")
        }
    }

    /// This machine's baseline file (``CostBaselines``).
    private var baselineFile: String { CostBaselines.file(at: baseline, machine: Self.machine()) }

    func run() async throws {
        let baselineReport = try self.baselineForThisMachine()
        let injected = ProcessInfo.processInfo.environment["PERF_INJECT_REGRESSION"].flatMap { $0.isEmpty ? nil : $0 }
        let report = try await measureOrExit(injected: injected)
        print(Self.table(report))
        if let output { try write(report, to: output) }
        if updateBaseline {
            try write(report, to: baselineFile)
            print("baseline written: \(baselineFile) (\(report.machine))")
            return
        }
        guard let baselineReport else { return }
        var checks = CostGate.checks(current: report, baseline: baselineReport)
        let confirming = confirm && checks.contains(where: { !$0.ok })
        print("\ncost gate against \(baselineFile) (recorded \(baselineReport.recordedAt) on \(baselineReport.machine)):")
        // Only the final verdict's lines start with ok/FAIL; a first pass that is being confirmed is marked as such.
        for check in checks { print((confirming ? "  first pass: " : "  ") + check.line) }
        if confirming {
            // A shared machine has bursts: a failure is measured again, and the gate judges all runs together.
            print("\n\(checks.filter { !$0.ok }.count) checks failed: measuring \(runs) more runs to confirm")
            let again = try await measureOrExit(injected: injected)
            let combined = CostReport(
                recordedAt: report.recordedAt, machine: report.machine, requestsPerBatch: report.requestsPerBatch,
                runs: report.runs + again.runs, injectedRegression: injected, allowedCPUs: report.allowedCPUs)
            print(Self.table(combined))
            if let output { try write(combined, to: output) }
            checks = CostGate.checks(current: combined, baseline: baselineReport)
            print("\ncost gate over all \(combined.runs.count) runs:")
            for check in checks { print("  " + check.line) }
        }
        let failed = checks.filter { !$0.ok }
        print(failed.isEmpty ? "cost gate: passed (\(checks.count) checks)" : "cost gate: FAILED \(failed.count) of \(checks.count) checks")
        if !failed.isEmpty { throw ExitCode(99) }
    }

    /// This machine's baseline (`nil` with --update-baseline), after checking that its times can be compared with
    /// this measurement: one CPU, recorded on one CPU, on this machine. Otherwise prints why and exits with status 2.
    private func baselineForThisMachine() throws -> CostReport? {
        func refuse(_ message: String) -> ExitCode {
            print("cost-gate: " + message)
            return ExitCode(2)
        }
        let machine = Self.machine()
        guard Self.allowedCPUs() == 1 else {
            throw refuse(
                "the cost gate measures on one CPU (probe, server and redis-server together, one request at a time), this"
                    + " process may run on \(Self.allowedCPUs().map(String.init) ?? "an unknown number of") CPUs: run it"
                    + " through scripts/cost, or as `taskset -c N cost-gate measure ...`")
        }
        if updateBaseline { return nil }
        guard FileManager.default.fileExists(atPath: baselineFile) else {
            let recorded = baselineFile == baseline ? [] : CostBaselines.recordedMachines(in: baseline)
            throw refuse(
                "no cost baseline for this machine (\(machine)) at \(baselineFile)"
                    + (recorded.isEmpty ? "" : "; recorded for: \(recorded.joined(separator: "; "))")
                    + ". Times only compare on the machine they were recorded on: record one here with"
                    + " `scripts/cost --update-baseline --runs 10` and commit it")
        }
        let report = try loadBaseline()
        guard report.allowedCPUs == 1 else {
            throw refuse(
                "the baseline \(baselineFile) was measured on \(report.allowedCPUs.map(String.init) ?? "all") CPUs, this"
                    + " gate measures on one: record a baseline here with `scripts/cost --update-baseline --runs 10`")
        }
        guard report.machine == machine else {
            throw refuse(
                "the baseline \(baselineFile) was recorded on \(report.machine), this machine is \(machine): times only"
                    + " compare on the machine they were recorded on; record a baseline here with"
                    + " `scripts/cost --update-baseline --runs 10`")
        }
        return report
    }

    private func loadBaseline() throws -> CostReport {
        do {
            return try JSONDecoder().decode(CostReport.self, from: Data(contentsOf: URL(fileURLWithPath: baselineFile)))
        } catch {
            throw ValidationError("baseline \(baselineFile) is not a cost report: \(error)")
        }
    }

    private func write(_ report: CostReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(report).write(to: url)
    }

    // MARK: The probe

    /// ``measure(injected:)``; a probe failure (the server or Redis misbehaving) is printed and exits with status 1.
    private func measureOrExit(injected: String?) async throws -> CostReport {
        do {
            return try await measure(injected: injected)
        } catch let error as ProbeError {
            print("cost-gate: \(error)")
            throw ExitCode(1)
        }
    }

    private func measure(injected: String?) async throws -> CostReport {
        let redis = try await RedisServerProcess.start(.init(allowExternal: false))
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        do {
            var runsDone: [CostRun] = []
            for run in 1...runs {
                let server = try await ServerProcess.start(redisPort: redis.port, mallocCounter: mallocCounter, run: run)
                do {
                    let redisPID = redis.processIdentifier ?? 0
                    let (batch, hashingBatch) = (self.batch, self.hashingBatch)
                    let result = try await threads.runIfActive {
                        try Probe(
                            serverPort: server.port, server: ServerCounters(pid: server.pid, allocationFile: server.counterFile),
                            redisPort: redis.port, redis: ServerCounters(pid: redisPID, allocationFile: nil)
                        ).run(number: run, batch: batch, hashingBatch: hashingBatch)
                    }
                    runsDone.append(result)
                    let verify = result.endpoints["verify"]
                    print(String(format: "run %d/%d: verify %.1f µs CPU (%.3f x /health/live), %@ allocations", run, runs,
                                 verify?.cpuMicroseconds ?? 0, verify?.normalizedCPU ?? 0,
                                 verify?.allocations.map { String(format: "%.1f", $0) } ?? "n/a"))
                    await server.stop()
                } catch {
                    await server.stop()
                    throw error
                }
            }
            try await threads.shutdownGracefully()
            try await redis.stop()
            return CostReport(
                recordedAt: ISO8601DateFormatter().string(from: Date()), machine: Self.machine(),
                requestsPerBatch: Dictionary(
                    uniqueKeysWithValues: EndpointWorkload.all(state: AuthWorkloadState(run: 0), batch: batch, hashingBatch: hashingBatch)
                        .map { ($0.name, $0.batch) }),
                runs: runsDone, injectedRegression: injected, allowedCPUs: Self.allowedCPUs())
        } catch {
            try? await threads.shutdownGracefully()
            try? await redis.stop()
            throw error
        }
    }

    /// How many CPUs this process may run on (`Cpus_allowed_list` of /proc/self/status, e.g. `1` or `0-1,3`); its
    /// children (the server, redis-server) inherit it. `nil` when it cannot be read.
    static func allowedCPUs() -> Int? {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).trimmingSpaces.split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last, high >= low else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// `<cpu model>, <n> cores` from /proc/cpuinfo.
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last.map { String($0.trimmingSpaces) } ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    static func table(_ report: CostReport) -> String {
        var lines = [
            "\nper-request cost over \(report.runs.count) runs: counts are medians, normalized CPU and latency the lowest run (the gated figures) and the median; spread = (max - min) / median",
            "CPU normalized = endpoint CPU / its reference's CPU, alternating request by request (reference: GET /health/live; for /health/live: redis-server PING)",
            "endpoint      allocations (spread)   Redis cmds   CPU µs (spread)    ref µs   normalized CPU lowest/median (spread)   latency µs   normalized latency lowest/median (spread)",
        ]
        let order = ["verify", "login", "refresh", "register", "logout", "healthRedis", "healthLive"]
        for name in order + report.endpoints.keys.filter({ !order.contains($0) }).sorted() {
            guard let e = report.endpoints[name] else { continue }
            let allocations = e.allocations.map { String(format: "%8.1f (%4.1f%%)", $0.median, $0.relative * 100) } ?? "     n/a       "
            lines.append(
                name.padding(toLength: 14, withPad: " ", startingAt: 0) + allocations
                    + String(format: "      %6.3f     %7.1f (%4.1f%%)   %6.1f   %7.3f / %7.3f (%4.1f%%)              %8.0f     %7.3f / %7.3f (%4.1f%%)",
                             e.redisCommands.median, e.cpuMicroseconds.median, e.cpuMicroseconds.relative * 100,
                             e.referenceCPUMicroseconds.median, e.normalizedCPU.minimum, e.normalizedCPU.median,
                             e.normalizedCPU.relative * 100, e.medianLatencyMicroseconds.median,
                             e.normalizedLatency?.minimum ?? 0, e.normalizedLatency?.median ?? 0,
                             (e.normalizedLatency?.relative ?? 0) * 100))
        }
        return lines.joined(separator: "\n")
    }
}

/// One run of the probe against a running server: every endpoint, each in two phases (see ``EndpointCost``).
struct Probe {
    let serverPort: Int
    let server: ServerCounters
    let redisPort: Int
    let redis: ServerCounters

    func run(number: Int, batch: Int, hashingBatch: Int) throws(ProbeError) -> CostRun {
        let counters = try ProbeRedisConnection(port: redisPort, password: nil)
        let ping = try ProbeRedisConnection(port: redisPort, password: nil)
        let http = try ProbeHTTPConnection(port: serverPort)
        let state = AuthWorkloadState(run: number)
        var endpoints: [String: EndpointCost] = [:]
        for workload in EndpointWorkload.all(state: state, batch: batch, hashingBatch: hashingBatch) {
            let n = workload.batch
            let warmup = max(20, n / 5)
            try workload.prepare(http, warmup + 4 * n)
            var index = 0
            func send() throws(ProbeError) {
                try workload.send(http, index)
                index += 1
            }
            for _ in 0..<warmup { try send() }

            // Phase 1: batches of N and 2N between counter readings.
            var latencies: [Double] = []
            latencies.reserveCapacity(3 * n)
            func timed() throws(ProbeError) {
                let start = monotonicNanoseconds()
                try send()
                latencies.append(Double(monotonicNanoseconds() - start) / 1000)
            }
            let before = try read(counters)
            for _ in 0..<n { try timed() }
            let middle = try read(counters)
            for _ in 0..<(2 * n) { try timed() }
            let after = try read(counters)

            // Phase 2: the endpoint and its reference alternate, request by request.
            let threads = try ThreadCPUReader(pid: server.pid)
            let redisThreads = try ThreadCPUReader(pid: redis.pid)
            let isHTTPFloor = workload.name == EndpointWorkload.httpFloor
            var cpu: [Double] = []
            var reference: [Double] = []
            var latency: [Double] = []
            var referenceLatency: [Double] = []
            for _ in 0..<n {
                let (c, l) = try Self.measure(threads, send)
                if let c { cpu.append(c) }
                latency.append(l)
                let (r, rl) =
                    isHTTPFloor
                    ? try Self.measure(redisThreads) { () throws(ProbeError) in _ = try ping.command(["PING"]) }
                    : try Self.measure(threads) { () throws(ProbeError) in _ = try http.expect(200, "GET", "/health/live") }
                if let r { reference.append(r) }
                referenceLatency.append(rl)
            }
            var cost = EndpointCost.perRequest(
                before: before, middle: middle, after: after, n: n, cpuMicroseconds: median(cpu),
                referenceCPUMicroseconds: median(reference), medianLatencyMicroseconds: median(latencies))
            cost.normalizedLatency = median(latency) / max(median(referenceLatency), 0.001)
            endpoints[workload.name] = cost
        }
        return CostRun(endpoints: endpoints)
    }

    /// CPU µs the threads used while `body` ran (`nil` when a thread ended meanwhile: its CPU left with it), and
    /// the wall-clock µs it took.
    private static func measure(_ threads: ThreadCPUReader, _ body: () throws(ProbeError) -> Void) throws(ProbeError)
        -> (cpu: Double?, latency: Double)
    {
        threads.waitUntilIdle()
        let start = threads.nanoseconds()
        let wallStart = monotonicNanoseconds()
        try body()
        let wall = Double(monotonicNanoseconds() - wallStart) / 1000
        threads.waitUntilIdle()
        let end = threads.nanoseconds()
        return (end >= start ? Double(end - start) / 1000 : nil, wall)
    }

    private func read(_ counters: ProbeRedisConnection) throws(ProbeError) -> CostCounters {
        CostCounters(
            allocations: try server.allocations(), cpuNanoseconds: try server.cpuNanoseconds(),
            redisCommands: try counters.commandsExecuted())
    }
}

/// `cost-gate serve` in a child process, with the allocation counter preloaded.
struct ServerProcess {
    let process: ChildProcess
    let port: Int
    let counterFile: String?
    let directory: String
    var pid: pid_t { process.pid }

    static func start(redisPort: Int, mallocCounter: String?, run: Int) async throws -> ServerProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cost-gate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/port"
        let counterFile = mallocCounter.map { _ in directory + "/allocations" }
        var environment: [String: String] = [:]
        if let mallocCounter, let counterFile {
            environment["LD_PRELOAD"] = mallocCounter
            environment["MALLOC_COUNTER_FILE"] = counterFile
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let process = try ChildProcess.spawn(
            executable, ["serve", "--redis-url", RedisEndpoint(host: "127.0.0.1", port: redisPort).url, "--port-file", portFile],
            standardOutput: directory + "/stdout", standardError: directory + "/stderr", environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let status = process.exitStatus() {
                let stderr = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
                throw ProbeError("the server (run \(run)) exited at start with status \(status): \(stderr.suffix(500))")
            }
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return ServerProcess(process: process, port: port, counterFile: counterFile, directory: directory)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGKILL)
        _ = await process.waitForExit(within: .seconds(5))
        throw ProbeError("the server (run \(run)) did not listen within 30 s")
    }

    func stop() async {
        process.signal(SIGTERM)
        if await process.waitForExit(within: .seconds(10)) == nil {
            process.signal(SIGKILL)
            _ = await process.waitForExit(within: .seconds(5))
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
