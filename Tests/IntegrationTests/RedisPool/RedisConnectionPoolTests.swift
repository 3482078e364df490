import Logging
import NIOCore
import NIOPosix
import PerformanceSupport
import RedisPool
import Testing

/// The pool against a real redis-server (started per test on a free port; `REDIS_URL` overrides where allowed).
@Suite("Redis connection pool against redis-server", .serialized)
struct RedisConnectionPoolTests {
    static let logger: Logger = {
        var logger = Logger(label: "pool-tests")
        logger.logLevel = .critical
        return logger
    }()

    static func withPool<R>(
        _ redis: RedisServerProcess,
        _ configuration: RedisConnectionPool.Configuration,
        _ body: (RedisConnectionPool) async throws -> R
    ) async throws -> R {
        let pool = RedisConnectionPool(
            configuration: configuration,
            endpoint: redis.endpoint,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
        // The pool's timer (acquire timeout, housekeeping, shutdown deadline) runs while run() runs.
        let runner = Task { try await pool.run() }
        do {
            let result = try await body(pool)
            await pool.shutdown(deadline: .now() + .seconds(2))
            try await runner.value
            return result
        } catch {
            await pool.shutdown(deadline: .now())
            try? await runner.value
            throw error
        }
    }

    static func adminConnection(_ redis: RedisServerProcess) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger)
    }

    /// Number of clients `CLIENT LIST` reports, excluding the asking connection.
    static func clientCount(_ admin: RedisConnection) async throws -> Int {
        let list = try await admin.command(["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
        return list.split(separator: "\n").count - 1
    }

    /// Polls `condition` every 10 ms for at most `timeout`.
    static func eventually(_ timeout: Duration = .seconds(2), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    static func seconds(_ duration: Duration) -> Double {
        duration / .seconds(1)
    }

    // MARK: Command paths

    @Test func everyCommandPathAndReplyType() async throws {
        try await RedisServerProcess.withServer { redis in
            try await Self.withPool(redis, .init(maximumConnections: 4, minimumConnections: 1)) { pool in
                let key = "pool-test:\(redis.port)"
                #expect(try await pool.command(["SET", key, "value"]) == .status("OK"))
                #expect(try await pool.command(["GET", key]) == .bulkString(Array("value".utf8)))
                #expect(try await pool.command(["GET", key]).string == "value")
                #expect(try await pool.command(["GET", key + ":missing"]) == .null)
                #expect(try await pool.command(["INCR", key + ":n"]) == .integer(1))
                _ = try await pool.command(["RPUSH", key + ":list", "a", "b"])
                #expect(
                    try await pool.command(["LRANGE", key + ":list", "0", "-1"])
                        == .array([.bulkString(Array("a".utf8)), .bulkString(Array("b".utf8))]))
                await #expect(throws: RedisServerError.self) { try await pool.command(["INCR", key]) }
                await #expect(throws: RedisServerError.self) { try await pool.command(["NOSUCHCOMMAND"]) }

                let viaLease = try await pool.withConnection { connection in
                    try await connection.command(["GET", key]).string
                }
                #expect(viaLease == "value")

                // Pipelining: one write, replies in order, error replies inline.
                let replies = try await pool.pipeline([
                    ["SET", key + ":p", "1"], ["INCR", key + ":p"], ["INCR", key], ["GET", key + ":p"],
                    ["PING"],
                ])
                #expect(replies.count == 5)
                #expect(replies[0] == .status("OK"))
                #expect(replies[1] == .integer(2))
                if case .error(let message) = replies[2] { #expect(message.hasPrefix("ERR")) } else {
                    Issue.record("expected an error reply, got \(replies[2])")
                }
                #expect(replies[3].string == "2")
                #expect(replies[4] == .status("PONG"))
                let ordered = try await pool.pipeline((0..<100).map { ["ECHO", "\($0)"] })
                #expect(ordered.map(\.string) == (0..<100).map { "\($0)" })

                let metrics = pool.metrics()
                #expect(metrics.commandErrors == 2)
                #expect(metrics.inUse == 0)
                #expect(metrics.leases >= 12)
            }
        }
    }

    @Test func authenticatesWithAPassword() async throws {
        try await RedisServerProcess.withServer(.init(password: "s3cret")) { redis in
            try await Self.withPool(redis, .init(maximumConnections: 2, minimumConnections: 0)) { (pool: RedisConnectionPool) async throws in
                #expect(try await pool.command(["PING"]) == .status("PONG"))
            }
        }
    }

    // MARK: Bounds

    @Test func tenThousandConcurrentLeasesNeverOpenMoreThanEight() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 0, acquireTimeout: .seconds(60), maximumWaiters: 20_000)
            try await Self.withPool(redis, configuration) { pool in
                let admin = try await Self.adminConnection(redis)
                defer { admin.close() }
                let key = "pool-test:counter"
                let maxClients = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<10_000 {
                        group.addTask {
                            try await pool.withConnection { connection in
                                _ = try await connection.command(["INCR", key])
                            }
                            return -1
                        }
                    }
                    group.addTask {  // watch CLIENT LIST while the load runs
                        var peak = 0
                        for _ in 0..<50 {
                            peak = max(peak, try await Self.clientCount(admin))
                            if pool.metrics().leases >= 10_000 { break }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        return peak
                    }
                    var peak = 0
                    for try await value in group { peak = max(peak, value) }
                    return peak
                }
                #expect(try await admin.command(["GET", key]) == .bulkString(Array("10000".utf8)))
                let metrics = pool.metrics()
                #expect(metrics.peakInUse <= 8)
                #expect(metrics.totalConnections <= 8)
                #expect(metrics.connectionsCreated <= 8)
                #expect(metrics.inUse == 0 && metrics.waiters == 0)
                #expect(metrics.leases == 10_000)
                #expect(metrics.peakWaiters > 0)
                #expect(maxClients <= 8)
                #expect(try await Self.clientCount(admin) <= 8)
            }
        }
    }

    @Test func acquireTimeoutFiresOnTime() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 1, minimumConnections: 1, acquireTimeout: .milliseconds(300))
            try await Self.withPool(redis, configuration) { pool in
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await pool.withConnection { _ in
                        for await _ in held { break }
                    }
                }
                #expect(try await Self.eventually { pool.metrics().inUse == 1 })
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: RedisPoolError(code: .acquireTimeout, message: "no connection available within acquireTimeout")) {
                    try await pool.command(["PING"])
                }
                let elapsed = Self.seconds(clock.now - start)
                #expect(elapsed >= 0.29 && elapsed < 0.6, "timed out after \(elapsed) s")
                #expect(pool.metrics().acquireTimeouts == 1)
                release.yield()
                release.finish()
                try await holder.value
                #expect(try await pool.command(["PING"]) == .status("PONG"))
            }
        }
    }

    @Test func maximumWaitersRejectsAtOnce() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 1, minimumConnections: 1, acquireTimeout: .seconds(5), maximumWaiters: 2)
            try await Self.withPool(redis, configuration) { pool in
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holder = Task { try await pool.withConnection { _ in for await _ in held { break } } }
                #expect(try await Self.eventually { pool.metrics().inUse == 1 })
                let waiters = (0..<2).map { _ in Task { try await pool.command(["PING"]) } }
                #expect(try await Self.eventually { pool.metrics().waiters == 2 })
                let clock = ContinuousClock()
                let start = clock.now
                do {
                    _ = try await pool.command(["PING"])
                    Issue.record("expected tooManyWaiters")
                } catch let error as RedisPoolError {
                    #expect(error.code == .tooManyWaiters)
                }
                #expect(Self.seconds(clock.now - start) < 0.1)
                #expect(pool.metrics().waitersRejected == 1)
                release.finish()
                try await holder.value
                for waiter in waiters { #expect(try await waiter.value == .status("PONG")) }
            }
        }
    }

    @Test func cancelledWaitersLeaveTheQueue() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 1, minimumConnections: 1, acquireTimeout: .seconds(10))
            try await Self.withPool(redis, configuration) { pool in
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holder = Task { try await pool.withConnection { _ in for await _ in held { break } } }
                #expect(try await Self.eventually { pool.metrics().inUse == 1 })
                let waiters = (0..<5).map { _ in Task { try await pool.command(["PING"]) } }
                #expect(try await Self.eventually { pool.metrics().waiters == 5 })
                for waiter in waiters { waiter.cancel() }
                #expect(try await Self.eventually { pool.metrics().waiters == 0 })
                for waiter in waiters {
                    await #expect(throws: CancellationError.self) { try await waiter.value }
                }
                release.finish()
                try await holder.value
                #expect(pool.metrics().inUse == 0)
                #expect(try await pool.command(["PING"]) == .status("PONG"))
            }
        }
    }

    // MARK: Faults

    /// Runs `workers` loops of GET for `duration`; returns (successes, failures, longest failed call in seconds).
    static func load(
        _ pool: RedisConnectionPool,
        workers: Int,
        for duration: Duration,
        during action: @Sendable () async throws -> Void
    ) async throws -> (successes: Int, failures: Int, slowestFailure: Double) {
        let stop = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: (Int, Int, Double).self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var successes = 0
                    var failures = 0
                    var slowest = 0.0
                    while ContinuousClock.now < stop {
                        let start = ContinuousClock.now
                        do {
                            _ = try await pool.command(["GET", "pool-test:load"])
                            successes += 1
                        } catch {
                            failures += 1
                            slowest = max(slowest, seconds(ContinuousClock.now - start))
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    return (successes, failures, slowest)
                }
            }
            try await action()
            var total = (0, 0, 0.0)
            for try await (s, f, slowest) in group { total = (total.0 + s, total.1 + f, max(total.2, slowest)) }
            return total
        }
    }

    @Test func clientKillDuringLoadReplacesConnectionsAndNothingHangs() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 4, acquireTimeout: .seconds(1),
                commandTimeout: .seconds(1))
            try await Self.withPool(redis, configuration) { pool in
                let admin = try await Self.adminConnection(redis)
                defer { admin.close() }
                let clock = ContinuousClock()
                let start = clock.now
                let result = try await Self.load(pool, workers: 16, for: .seconds(1.5)) {
                    try await Task.sleep(for: .milliseconds(300))
                    let killed = try await admin.command(["CLIENT", "KILL", "TYPE", "normal"])
                    #expect((killed.int ?? 0) >= 1)
                    try await Task.sleep(for: .milliseconds(400))
                    _ = try await admin.command(["CLIENT", "KILL", "TYPE", "normal"])
                }
                // Bounded: the load stops at 1.5 s and every call is bounded by command/acquire timeouts.
                #expect(Self.seconds(clock.now - start) < 3.5)
                #expect(result.successes > 100)
                #expect(result.slowestFailure < 1.2)
                let metrics = pool.metrics()
                #expect(metrics.connectionsClosed >= 1)
                #expect(metrics.connectionsCreated > metrics.connectionsClosed - 1)
                #expect(metrics.inUse == 0)
                #expect(try await pool.command(["PING"]) == .status("PONG"))
                #expect(try await Self.clientCount(admin) <= 8)
            }
        }
    }

    /// A command blocked in Redis (`BLPOP`) when its connection is killed: retried once on another connection when
    /// marked idempotent; failed with `.connectionClosed` when not.
    @Test(arguments: [true, false])
    func idempotentCommandsAreRetriedOnConnectionLoss(idempotent: Bool) async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 2, minimumConnections: 2, commandTimeout: .seconds(3))
            try await Self.withPool(redis, configuration) { pool in
                let admin = try await Self.adminConnection(redis)
                defer { admin.close() }
                let blocked = Task { try await pool.command(["BLPOP", "pool-test:empty", "0.3"], idempotent: idempotent) }
                var blockedClient: Substring?
                _ = try await Self.eventually {
                    let list = try await admin.command(["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
                    blockedClient = list.split(separator: "\n").first { $0.contains("cmd=blpop") }
                    return blockedClient != nil
                }
                // `id=N addr=...`: kill exactly the connection BLPOP is blocked on.
                let id = try #require(blockedClient?.split(separator: " ").first?.dropFirst(3), "BLPOP never reached Redis")
                #expect(try await admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
                if idempotent {
                    let reply = try await blocked.value
                    #expect(reply == .null, "the retried BLPOP times out in Redis and answers nil, got \(reply)")
                    #expect(pool.metrics().connectionLossRetries == 1)
                } else {
                    await #expect(throws: RedisConnectionError.self) { try await blocked.value }
                    #expect(pool.metrics().connectionLossRetries == 0)
                }
                #expect(try await Self.eventually { pool.metrics().inUse == 0 })
            }
        }
    }

    /// `CLIENT KILL TYPE normal` kills every connection at once, the idle ones included: each in-flight idempotent
    /// command is retried after a pause and succeeds on a fresh connection instead of picking another dead one.
    @Test func everyInFlightReadSurvivesKillingAllConnectionsAtOnce() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 8, commandTimeout: .seconds(3))
            try await Self.withPool(redis, configuration) { pool in
                let admin = try await Self.adminConnection(redis)
                defer { admin.close() }
                #expect(try await Self.eventually { pool.metrics().idle == 8 })
                let blocked = (0..<4).map { i in
                    Task { try await pool.command(["BLPOP", "pool-test:empty-\(i)", "0.3"], idempotent: true) }
                }
                _ = try await Self.eventually {
                    let list = try await admin.command(["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
                    return list.split(separator: "\n").filter { $0.contains("cmd=blpop") }.count == 4
                }
                // Four leased (blocked in BLPOP) and four idle connections die together.
                _ = try await admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
                for task in blocked {
                    let reply = try await task.value
                    #expect(reply == .null, "the retried BLPOP times out in Redis and answers nil, got \(reply)")
                }
                #expect(pool.metrics().connectionLossRetries == 4)
                #expect(try await Self.eventually { pool.metrics().inUse == 0 })
            }
        }
    }

    @Test func redisRestartFailsFastWhileDownAndServesWithinTwoSeconds() async throws {
        try await RedisServerProcess.withServer(.init(allowExternal: false)) { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 2, acquireTimeout: .seconds(1),
                connectTimeout: .milliseconds(500), commandTimeout: .seconds(1))
            try await Self.withPool(redis, configuration) { pool in
                #expect(try await pool.command(["PING"]) == .status("PONG"))
                // Load while the server goes down.
                let down = try await Self.load(pool, workers: 8, for: .seconds(1.5)) {
                    try await Task.sleep(for: .milliseconds(200))
                    // SIGKILL: the server is gone at once (SIGTERM shutdown can take over a second here).
                    try await redis.kill()
                }
                #expect(down.failures > 0)
                #expect(down.slowestFailure <= 1.1, "a call took \(down.slowestFailure) s to fail")
                #expect(try await Self.eventually(.seconds(2)) { pool.metrics().circuitOpen })
                // While down: fail fast.
                let clock = ContinuousClock()
                let failStart = clock.now
                await #expect(throws: RedisPoolError.self) { try await pool.command(["PING"]) }
                #expect(Self.seconds(clock.now - failStart) < 0.1)

                try await redis.restart()
                let restarted = clock.now
                var served = false
                while clock.now - restarted < .seconds(3) {
                    if (try? await pool.command(["PING"])) == .status("PONG") {
                        served = true
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let recovery = Self.seconds(clock.now - restarted)
                #expect(served)
                #expect(recovery < 2.0, "serving again after \(recovery) s")
                #expect(!pool.metrics().circuitOpen)
                #expect(pool.metrics().inUse == 0)
            }
        }
    }

    @Test func debugSleepLongerThanCommandTimeoutTimesOutAndReplacesTheConnection() async throws {
        try await RedisServerProcess.withServer(.init(extraArguments: ["--enable-debug-command", "yes"])) { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 2, minimumConnections: 1, commandTimeout: .milliseconds(200))
            try await Self.withPool(redis, configuration) { pool in
                _ = try await pool.command(["PING"])
                let clock = ContinuousClock()
                let start = clock.now
                do {
                    _ = try await pool.command(["DEBUG", "SLEEP", "0.6"])
                    Issue.record("expected a command timeout")
                } catch let error as RedisConnectionError {
                    #expect(error.code == .commandTimeout)
                }
                #expect(Self.seconds(clock.now - start) < 0.5)
                // The server is still asleep; once awake, the pool serves again with a fresh connection.
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await pool.command(["PING"]) == .status("PONG"))
                let metrics = pool.metrics()
                #expect(metrics.commandTimeouts == 1)
                #expect(try await Self.eventually { pool.metrics().connectionsClosed >= 1 })
                #expect(metrics.inUse == 0)
                #expect(metrics.totalConnections <= 2)
            }
        }
    }

    @Test func keepAlivePingsIdleConnectionsAndIdleTimeoutShrinksThePool() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 4, minimumConnections: 1, idleTimeout: .milliseconds(400),
                keepAliveInterval: .milliseconds(100), housekeepingInterval: .milliseconds(20))
            try await Self.withPool(redis, configuration) { pool in
                let admin = try await Self.adminConnection(redis)
                defer { admin.close() }
                // Four concurrent leases open four connections.
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holders = (0..<4).map { _ in Task { try await pool.withConnection { _ in for await _ in held { break } } } }
                #expect(try await Self.eventually { pool.metrics().inUse == 4 })
                release.finish()
                for holder in holders { try await holder.value }
                #expect(pool.metrics().totalConnections == 4)
                // Idle for a while: PINGs keep them alive, the idle timeout closes all but minimumConnections.
                #expect(try await Self.eventually(.seconds(3)) { pool.metrics().totalConnections == 1 })
                let stats = try await admin.command(["INFO", "commandstats"]).string ?? ""
                #expect(stats.contains("cmdstat_ping:calls="))
                try await Task.sleep(for: .milliseconds(300))
                // A keep-alive PING may hold the last connection for an instant: wait until it is idle again.
                #expect(try await Self.eventually(.seconds(2)) {
                    let m = pool.metrics()
                    return m.totalConnections == 1 && m.idle == 1
                })
                #expect(pool.metrics().connectionsClosed == 3)
                #expect(try await pool.command(["PING"]) == .status("PONG"))
            }
        }
    }

    // MARK: Lifecycle

    @Test func shutdownWaitsForLeasesAndRejectsNewOnes() async throws {
        try await RedisServerProcess.withServer { redis in
            let pool = RedisConnectionPool(
                configuration: .init(maximumConnections: 2, minimumConnections: 2),
                endpoint: redis.endpoint, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Self.logger)
            let runner = Task { try await pool.run() }
            #expect(try await Self.eventually { pool.metrics().idle == 2 })
            let (held, release) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await pool.withConnection { connection in
                    for await _ in held { break }
                    return try await connection.command(["PING"])
                }
            }
            #expect(try await Self.eventually { pool.metrics().inUse == 1 })
            let shutdown = Task { await pool.shutdown(deadline: .now() + .seconds(5)) }
            #expect(try await Self.eventually { pool.metrics().idle == 0 })
            do {
                _ = try await pool.command(["PING"])
                Issue.record("expected poolShutdown")
            } catch let error as RedisPoolError {
                #expect(error.code == .poolShutdown)
            }
            release.finish()
            #expect(try await holder.value == .status("PONG"))  // the lease finished its work
            await shutdown.value
            #expect(pool.metrics().totalConnections == 0)
            runner.cancel()
            try await runner.value
        }
    }

    @Test func runReturnsPromptlyWhenCancelled() async throws {
        try await RedisServerProcess.withServer { redis in
            let pool = RedisConnectionPool(
                configuration: .init(maximumConnections: 4, minimumConnections: 4),
                endpoint: redis.endpoint, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Self.logger)
            let runner = Task { try await pool.run() }
            #expect(try await Self.eventually { pool.metrics().idle == 4 })
            let clock = ContinuousClock()
            let start = clock.now
            runner.cancel()
            try await runner.value
            #expect(Self.seconds(clock.now - start) < 0.5)
            #expect(pool.metrics().totalConnections == 0)
        }
    }
}
