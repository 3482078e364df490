import AuthScenarios
import AuthServiceUnderTest
import Foundation
import LoadDriver
import Logging
import NIOPosix
import RedisPool

/// What a scenario body can reach while the load runs (fault scenarios kill Redis, kill connections, ...).
public struct LiveScenario: Sendable {
    public let redis: RedisServerProcess
    public let server: AuthServer
    /// The load phase's clock: time faults with it and mark them, so they land in the result's `events`.
    public let timeline: LoadTimeline
}

/// The outcome of one scenario: the driver's result (with the deterministic gates and the baseline checks added to
/// its thresholds, so its `passed` is the verdict), the Redis counters behind the gates and where the JSON went.
public struct PerformanceRun: Sendable {
    public var result: LoadTestResult
    /// Redis counters over the run (start of the server to the end of the load).
    public var redis: RedisInfo
    /// The deterministic gates, also appended to `result.thresholds`.
    public var gates: [ThresholdResult]
    /// The baseline file compared against, if any.
    public var baselineFile: URL?
    /// The result file written.
    public var resultFile: URL?

    package init(
        result: LoadTestResult, redis: RedisInfo = RedisInfo(), gates: [ThresholdResult] = []
    ) {
        self.result = result
        self.redis = redis
        self.gates = gates
    }

    /// Every reason this run fails the gate, one line each (`threshold failed: ...`, `regression vs baseline: ...`);
    /// empty when it passed.
    public var failures: [String] {
        result.thresholds.filter { !$0.ok }.map(Self.failureLine)
    }

    /// The failed baseline checks (empty when none is stored or comparison is off).
    public var regressions: [ThresholdResult] {
        result.thresholds.filter { !$0.ok && $0.expression.hasPrefix(BaselineStore.checkPrefix) }
    }

    package static func failureLine(_ t: ThresholdResult) -> String {
        let detail = "(actual \(t.actual.map { String(format: "%.4g", $0) } ?? "n/a")\(t.note.map { "; \($0)" } ?? ""))"
        if t.expression.hasPrefix(BaselineStore.checkPrefix) {
            return "regression vs baseline: \(t.expression.dropFirst(BaselineStore.checkPrefix.count)) \(detail)"
        }
        return "threshold failed: \(t.expression) \(detail)"
    }

    /// The verdict: `result.passed`.
    public var passed: Bool { result.passed }
}

/// Boots the auth server in-process on a real redis-server, drives it with the LoadDriver, checks thresholds,
/// deterministic gates and the baseline, and writes the JSON result.
public enum PerformanceHarness {
    /// A debug build is about 5x slower: its figures are not valid, so a load scenario fails at once (before Redis,
    /// the server or any load start) rather than after the load.
    public static func requireOptimizedBuild(_ buildConfiguration: String) throws {
        guard buildConfiguration != "debug" else {
            throw PerformanceSetupError(
                "load scenarios need an optimized build (a debug build is about 5x slower): run scripts/perf, or swift test -c release --filter Performance")
        }
    }

    public static func run(
        _ spec: PerformanceScenario,
        environment: PerformanceEnvironment,
        logger: Logger = Logger(label: "performance"),
        during: (@Sendable (LiveScenario) async throws -> Void)? = nil
    ) async throws -> PerformanceRun {
        try Self.requireOptimizedBuild(PerformanceEnvironment.buildConfiguration)
        var scenario = spec.scenario
        if spec.scalesDuration, let seconds = scenario.durationSeconds {
            scenario.durationSeconds = (seconds * environment.durationScale * 10).rounded() / 10
        }
        try ResourceLimits.requireOpenFiles(
            scenario.users * 2 + spec.server.pool.maximumConnections + 256,
            for: "scenario \(scenario.name) with \(scenario.users) users")

        var serverConfiguration = spec.server

        let redisConfiguration = spec.redis
        return try await RedisServerProcess.withServer(redisConfiguration) { redis in
            serverConfiguration.redis = redis.endpoint
            let before = try await RedisInfo.read(redis.endpoint)
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            defer { clientGroup.shutdownGracefully { _ in } }
            let injected = environment.injectedRegression
            let endpoint = redis.endpoint
            let server = try await AuthServer.start(
                serverConfiguration,
                redisClient: { pool in
                    injected?.client(pool: pool, endpoint: endpoint, eventLoopGroup: clientGroup, logger: logger) ?? pool
                },
                logger: logger)
            do {
                let run = try await drive(
                    scenario: scenario, spec: spec, server: server, serverConfiguration: serverConfiguration,
                    redis: redis, before: before, environment: environment, logger: logger, during: during)
                try await server.shutdown()
                return run
            } catch {
                try? await server.shutdown()
                throw error
            }
        }
    }

    private static func drive(
        scenario: Scenario,
        spec: PerformanceScenario,
        server: AuthServer,
        serverConfiguration: AuthServiceConfiguration,
        redis: RedisServerProcess,
        before: RedisInfo,
        environment: PerformanceEnvironment,
        logger: Logger,
        during: (@Sendable (LiveScenario) async throws -> Void)?
    ) async throws -> PerformanceRun {
        var runEnvironment = RunEnvironment()
        runEnvironment.redisVersion = before.redisVersion
        runEnvironment.extra = serverConfiguration.runEnvironmentFields
        runEnvironment.extra["durationScale"] = String(environment.durationScale)
        runEnvironment.extra["redis"] = redis.isExternal ? "external (REDIS_URL)" : "redis-server started by the test"
        if let injected = environment.injectedRegression { runEnvironment.extra["injectedRegression"] = injected.rawValue }
        let timeline = LoadTimeline()
        var configuration = LoadRunner.Configuration(
            target: try Target(url: "http://127.0.0.1:\(server.port)"),
            eventLoopThreads: 1,
            poolMonitorPath: RequestTemplate.authPoolMetricsPath,
            logger: logger,
            environment: runEnvironment
        )
        configuration.onLoadStart = { timeline.loadStarting(in: $0) }
        let roundTripsBefore = server.pool.metrics().roundTrips
        let live = LiveScenario(redis: redis, server: server, timeline: timeline)
        let faults = during.map { body in Task { try await body(live) } }
        let loadResult: LoadTestResult
        do {
            loadResult = try await LoadRunner(configuration).run(scenario)
        } catch {
            faults?.cancel()
            throw error
        }
        if let faults { try await faults.value }

        var result = loadResult
        let events = timeline.events
        if !events.isEmpty { result.events = events }
        let leaked = await leasesAfterDrain(server.pool)
        let poolAfter = server.pool.metrics()
        let observed = PoolObservation(
            roundTrips: poolAfter.roundTrips - roundTripsBefore, poolConnections: poolAfter.totalConnections,
            redisClients: spec.checksRedisCounters ? try await RedisInfo.clientConnections(redis.endpoint) : nil)
        let after =
            spec.checksRedisCounters
            ? try await RedisInfo.read(redis.endpoint) : ((try? await RedisInfo.read(redis.endpoint)) ?? before)
        let delta = after.delta(since: before)
        let gates = deterministicGates(
            result: result, delta: delta, spec: spec, pool: observed, leasedAfterRun: leaked)
        result.record(gates)
        result.role = spec.role

        var run = PerformanceRun(result: result, redis: delta, gates: gates)
        if spec.comparesWithBaseline {
            try BaselineStore.gate(&run, environment: environment)
        }
        run.resultFile = try ResultStore.write(run.result, to: environment.resultsDirectory)
        return run
    }

    /// `inUse` once in-flight work has drained (up to 2 s): anything left is a leaked lease.
    private static func leasesAfterDrain(_ pool: RedisConnectionPool) async -> Int {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            let inUse = pool.metrics().inUse
            if inUse == 0 || ContinuousClock.now >= deadline { return inUse }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// What the pool reported over the run, beside what Redis itself saw.
    struct PoolObservation {
        /// Round trips the pool carried during the run (its `roundTrips` counter: commands and pipelines on leases).
        var roundTrips: Int
        /// Connections the pool reported open after the load.
        var poolConnections: Int
        /// Client connections Redis had open at the same moment (`CLIENT LIST`), `nil` when not read.
        var redisClients: Int?
    }

    /// Deterministic signals that do not depend on the machine's speed. Each is an independent observation: what
    /// Redis counted (commands, connections received, clients open) against what the requests sent imply and what
    /// the pool reports, with limits the scenario declares rather than the configuration under test.
    static func deterministicGates(
        result: LoadTestResult, delta: RedisInfo, spec: PerformanceScenario, pool: PoolObservation, leasedAfterRun: Int
    ) -> [ThresholdResult] {
        var gates: [ThresholdResult] = []
        guard spec.checksRedisCounters else {
            return [
                ThresholdResult(
                    expression: "gate.leasedAfterRun == 0", actual: Double(leasedAfterRun), limit: 0,
                    ok: leasedAfterRun == 0, note: "pool inUse after the load drained")
            ]
        }
        // Every request that reached the server, by endpoint: setup (register + login per ready user), warm-up and
        // the measured window.
        let counts = result.requestsSent ?? [:]
        var expectedCommands = 0
        var expectedRoundTrips = 0
        var unknown: [String] = []
        for (endpoint, count) in counts {
            if let perRequest = spec.redisCommandsPerEndpoint[endpoint], let roundTrips = spec.roundTripsPerEndpoint[endpoint] {
                expectedCommands += perRequest * count
                expectedRoundTrips += roundTrips * count
            } else {
                unknown.append(endpoint)
            }
        }
        let requests = counts.values.reduce(0, +)
        let measuredCommands = delta.serviceCommandCalls
        if requests > 0, unknown.isEmpty {
            let expected = Double(expectedCommands) / Double(requests)
            let actual = Double(measuredCommands) / Double(requests)
            let deviation = abs(actual / expected - 1)
            let tolerance = spec.commandsPerRequestTolerance
            gates.append(
                ThresholdResult(
                    expression: String(format: "gate.redisCommandsPerRequest == %.4f ± %g%%", expected, tolerance * 100),
                    actual: actual, limit: expected, ok: deviation <= tolerance,
                    note: "INFO commandstats, every command but the harness's INFO: \(measuredCommands) commands for \(requests) requests"))
            // The pool must account for the traffic Redis saw: every round trip on one of its leases. Traffic that
            // bypasses the pool the server reports (a hidden second pool, a connection per request) shows as missing
            // round trips.
            let expectedPerRequest = Double(expectedRoundTrips) / Double(requests)
            let roundTripsPerRequest = Double(pool.roundTrips) / Double(requests)
            gates.append(
                ThresholdResult(
                    expression: String(format: "gate.poolRoundTripsPerRequest == %.4f ± %g%%", expectedPerRequest, tolerance * 100),
                    actual: roundTripsPerRequest, limit: expectedPerRequest,
                    ok: abs(roundTripsPerRequest / expectedPerRequest - 1) <= tolerance,
                    note: "the reported pool's roundTrips counter: \(pool.roundTrips) round trips for \(requests) requests"))
        } else {
            gates.append(
                ThresholdResult(
                    expression: "gate.redisCommandsPerRequest", actual: nil, limit: 0, ok: false,
                    note: unknown.isEmpty ? "no requests were sent" : "no documented command count for \(unknown.sorted())"))
        }
        // The INFO connection of the second reading is counted in `delta`; it is not the service's.
        // The CLIENT LIST reading's connection is counted as well.
        let opened = delta.connectionsReceived - 1 - (pool.redisClients == nil ? 0 : 1)
        let limit = spec.redisConnectionLimit
        gates.append(
            ThresholdResult(
                expression: "gate.redisConnectionsOpened <= \(limit)", actual: Double(opened),
                limit: Double(limit), ok: opened <= limit,
                note: "INFO stats total_connections_received during the run; the limit the scenario declares"))
        if let redisClients = pool.redisClients {
            gates.append(
                ThresholdResult(
                    expression: "gate.redisClientsMatchPool", actual: Double(redisClients),
                    limit: Double(pool.poolConnections), ok: abs(redisClients - pool.poolConnections) <= 1,
                    note: "Redis CLIENT LIST after the load: \(redisClients) client connections; the pool reports \(pool.poolConnections)"))
        }
        gates.append(
            ThresholdResult(
                expression: "gate.leasedAfterRun == 0", actual: Double(leasedAfterRun), limit: 0,
                ok: leasedAfterRun == 0, note: "pool inUse after the load drained"))
        return gates
    }
}
