import Logging
import NIOPosix
import PerformanceSupport
import RedisPool
import Testing

@Suite struct RedisConnectionTests {
    private func connect(_ redis: RedisServerProcess, commandTimeout: Duration = .seconds(2)) async throws
        -> RedisConnection
    {
        try await RedisConnection.connect(
            to: redis.endpoint, connectTimeout: .seconds(1), commandTimeout: commandTimeout,
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "test"))
    }

    @Test func commandsAndReplyTypes() async throws {
        try await RedisServerProcess.withServer { redis in
            let c = try await connect(redis)
            defer { c.close() }
            let key = "conn-test:\(UInt64.random(in: 0...UInt64.max))"
            #expect(try await c.command("SET", key, "v1") == .status("OK"))
            #expect(try await c.command("GET", key) == .bulkString(Array("v1".utf8)))
            #expect(try await c.command("INCR", key + ":n") == .integer(1))
            #expect(try await c.command("GET", key + ":missing") == .null)
            #expect(try await c.command("RPUSH", key + ":l", "a", "b") == .integer(2))
            #expect(
                try await c.command("LRANGE", key + ":l", "0", "-1")
                    == .array([.bulkString(Array("a".utf8)), .bulkString(Array("b".utf8))]))
            let binary: [UInt8] = [0, 13, 10, 255, 36]
            try await c.command(bytes: [Array("SET".utf8), Array((key + ":b").utf8), binary])
            #expect(try await c.command("GET", key + ":b") == .bulkString(binary))
            try await c.command("DEL", key, key + ":n", key + ":l", key + ":b")
        }
    }

    @Test func errorRepliesAreTypedErrors() async throws {
        try await RedisServerProcess.withServer { redis in
            let c = try await connect(redis)
            defer { c.close() }
            do {
                try await c.command("NOSUCHCOMMAND")
                Issue.record("expected an error")
            } catch let error as RedisServerError {
                #expect(error.prefix == "ERR")
                #expect(error.message.contains("unknown command"))
            }
            // The connection stays usable after an error reply.
            try await c.ping()
        }
    }

    @Test func pipelineRepliesInOrder() async throws {
        try await RedisServerProcess.withServer { redis in
            let c = try await connect(redis)
            defer { c.close() }
            let key = "pipe:\(UInt32.random(in: 0...UInt32.max))"
            let commands: [[String]] = (1...100).map { _ in ["INCR", key] } + [["BADCMD"], ["GET", key], ["DEL", key]]
            let replies = try await c.pipeline(commands)
            #expect(replies.count == 103)
            #expect(Array(replies.prefix(100)) == (1...100).map { RedisReply.integer(Int64($0)) })
            if case .error = replies[100] {} else { Issue.record("expected an error reply, got \(replies[100])") }
            #expect(replies[101] == .bulkString(Array("100".utf8)))
            #expect(replies[102] == .integer(1))
        }
    }

    @Test func commandTimeoutClosesTheConnection() async throws {
        try await RedisServerProcess.withServer { redis in
            let c = try await connect(redis, commandTimeout: .milliseconds(200))
            let start = ContinuousClock.now
            do {
                try await c.command("DEBUG", "SLEEP", "1")
                Issue.record("expected a timeout")
            } catch let error as RedisConnectionError {
                #expect(error.code == .commandTimeout)
            }
            #expect(ContinuousClock.now - start < .milliseconds(900))
            try await c.closeFuture.get()
            #expect(c.isClosed)
            await #expect(throws: RedisConnectionError.self) { try await c.ping() }
        }
    }

    @Test func connectFailsClearlyWhenNothingListens() async throws {
        let port = try FreePort.loopback()
        let start = ContinuousClock.now
        await #expect(throws: RedisConnectionError.self) {
            _ = try await RedisConnection.connect(
                to: RedisEndpoint(port: port), connectTimeout: .seconds(1),
                eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "t"))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func serverSideKillFailsPendingAndCloses() async throws {
        try await RedisServerProcess.withServer { redis in
            let c = try await connect(redis)
            let admin = try await connect(redis)
            defer { admin.close() }
            try await admin.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            try await c.closeFuture.get()
            await #expect(throws: RedisConnectionError.self) { try await c.ping() }
        }
    }
}
