import Logging
import NIOCore
import NIOPosix
import PerformanceSupport
import RedisPool
import Testing

/// Auto-pipelining against a real redis-server: the commands one event loop sends during one tick share a lease and
/// one write.
@Suite("Auto-pipelining per event-loop tick", .serialized)
struct AutoPipeliningTests {
    /// Sends `commands` from one task on `loop`, all in the same tick, and waits for every reply.
    static func sendInOneTick(
        _ pool: RedisConnectionPool, on loop: any EventLoop, _ commands: [[String]], idempotent: Bool = false
    ) async throws -> [Result<RedisReply, any Error>] {
        let futures = try await loop.submit {
            commands.map { pool.command($0, idempotent: idempotent) }
        }.get()
        var results: [Result<RedisReply, any Error>] = []
        for future in futures {
            do { results.append(.success(try await future.get())) } catch { results.append(.failure(error)) }
        }
        return results
    }

    static func withPool<R>(
        _ redis: RedisServerProcess,
        _ configuration: RedisConnectionPool.Configuration,
        _ body: (RedisConnectionPool, any EventLoop) async throws -> R
    ) async throws -> R {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = RedisConnectionPool(
            configuration: configuration, endpoint: redis.endpoint, eventLoopGroup: group,
            logger: RedisConnectionPoolTests.logger)
        // The pool's timer (acquire timeout, housekeeping, shutdown deadline) runs while run() runs.
        let runner = Task { try await pool.run() }
        do {
            let result = try await body(pool, group.next())
            await pool.shutdown(deadline: .now() + .seconds(2))
            try await runner.value
            try await group.shutdownGracefully()
            return result
        } catch {
            await pool.shutdown(deadline: .now())
            try? await runner.value
            try await group.shutdownGracefully()
            throw error
        }
    }

    @Test func oneTicksCommandsShareALeasePerLimitAndAnswerInOrder() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 8, autoPipelineLimit: 32)
            try await Self.withPool(redis, configuration) { pool, loop in
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().idle == 8 })
                let before = pool.metrics()
                let results = try await Self.sendInOneTick(pool, on: loop, (0..<100).map { ["ECHO", "\($0)"] })
                #expect(results.map { try? $0.get().string } == (0..<100).map { "\($0)" })
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().inUse == 0 })
                let after = pool.metrics()
                // 100 commands, at most 32 per lease: 32 + 32 + 32 + 4.
                #expect(after.leases - before.leases == 4)
                #expect(after.roundTrips - before.roundTrips == 100)
            }
        }
    }

    @Test func aLimitOfOneGivesEveryCommandItsOwnLease() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 8, minimumConnections: 8, autoPipelineLimit: 1)
            try await Self.withPool(redis, configuration) { pool, loop in
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().idle == 8 })
                let before = pool.metrics()
                let results = try await Self.sendInOneTick(pool, on: loop, (0..<8).map { ["ECHO", "\($0)"] })
                #expect(results.map { try? $0.get().string } == (0..<8).map { "\($0)" })
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().inUse == 0 })
                let after = pool.metrics()
                #expect(after.leases - before.leases == 8)
                #expect(after.roundTrips - before.roundTrips == 8)
            }
        }
    }

    /// A batch whose connection dies fails every pending command: the idempotent ones are retried on a fresh
    /// connection and succeed, the others fail with `connectionClosed`; the lease comes back.
    @Test func aKilledBatchRetriesItsIdempotentCommandsOnly() async throws {
        try await RedisServerProcess.withServer { redis in
            let configuration = RedisConnectionPool.Configuration(
                maximumConnections: 4, minimumConnections: 1, commandTimeout: .seconds(3))
            try await Self.withPool(redis, configuration) { pool, loop in
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().idle == 1 })
                let admin = try await RedisConnectionPoolTests.adminConnection(redis)
                defer { admin.close() }
                // The BLPOP blocks its connection; the ECHOs and the INCR wait behind it on the same connection.
                let (reads, write) = try await loop.submit {
                    let reads =
                        [pool.command(["BLPOP", "pipelining:empty", "0.3"], idempotent: true)]
                        + (0..<5).map { pool.command(["ECHO", "\($0)"], idempotent: true) }
                    return (reads, pool.command(["INCR", "pipelining:n"], idempotent: false))
                }.get()
                _ = try await RedisConnectionPoolTests.eventually {
                    let list = try await admin.command(["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
                    return list.split(separator: "\n").contains { $0.contains("cmd=blpop") }
                }
                _ = try await admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
                #expect(try await reads[0].get() == .null)
                for (i, echo) in reads.dropFirst().enumerated() {
                    #expect(try await echo.get().string == "\(i)")
                }
                await #expect(throws: RedisConnectionError.self) { try await write.get() }
                #expect(try await RedisConnectionPoolTests.eventually { pool.metrics().inUse == 0 })
                #expect(pool.metrics().connectionLossRetries == 6)
                #expect(try await admin.command(["GET", "pipelining:n"]) == .null, "the INCR never ran")
            }
        }
    }
}
