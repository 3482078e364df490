import Foundation
import Logging
import NIOPosix
import PerformanceSupport
import RedisPool
import Testing

@Suite struct RedisServerProcessTests {
    private let owned = RedisServerProcess.Configuration(allowExternal: false)

    private func ping(_ endpoint: RedisEndpoint) async throws {
        let connection = try await RedisConnection.connect(
            to: endpoint, connectTimeout: .seconds(1), commandTimeout: .seconds(1),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "test"))
        defer { connection.close() }
        try await connection.ping()
    }

    private func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test func startsAndAnswersPing() async throws {
        try await RedisServerProcess.withServer(owned) { redis in
            #expect(redis.endpoint.host == "127.0.0.1")
            try await ping(redis.endpoint)
        }
    }

    @Test func aServerThatCannotStartIsAClearErrorFromEveryAttempt() async throws {
        // A bad argument fails before redis opens its log file: each of the attempts must say why (from stderr),
        // and none may fail only because an earlier attempt's directory was cleaned up.
        var configuration = owned
        configuration.extraArguments = ["--maxmemory-policy", "no-such-policy"]
        do {
            _ = try await RedisServerProcess.start(configuration)
            Issue.record("expected a start-up error")
        } catch let error as RedisServerProcessError {
            #expect(error.message.hasPrefix("could not start redis-server in 5 attempts"), "\(error)")
            let attempts = error.message.components(separatedBy: "redis-server exited at start").count - 1
            #expect(attempts == 5, "\(error)")
            #expect(error.message.components(separatedBy: "redis.stderr: ").count - 1 == 5, "\(error)")
            #expect(error.message.contains("no-such-policy"), "\(error)")
            #expect(!error.message.contains("log: (none)"), "\(error)")
        }
    }

    @Test func twoServersGetDifferentPorts() async throws {
        try await RedisServerProcess.withServer(owned) { first in
            try await RedisServerProcess.withServer(owned) { second in
                #expect(first.port != second.port)
                try await ping(first.endpoint)
                try await ping(second.endpoint)
            }
        }
    }

    @Test func stopLeavesNoProcessBehind() async throws {
        let redis = try await RedisServerProcess.start(owned)
        let pid = try #require(redis.processIdentifier)
        #expect(isAlive(pid))
        try await redis.stop()
        #expect(redis.processIdentifier == nil)
        #expect(!isAlive(pid))
        await #expect(throws: (any Error).self) { try await ping(redis.endpoint) }
    }

    @Test func stopsWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        var pid: Int32?
        await #expect(throws: Boom.self) {
            try await RedisServerProcess.withServer(owned) { redis in
                pid = redis.processIdentifier
                throw Boom()
            }
        }
        let started = try #require(pid)
        #expect(!isAlive(started))
    }

    @Test func restartsOnTheSamePortAfterKill() async throws {
        try await RedisServerProcess.withServer(owned) { redis in
            let port = redis.port
            let connection = try await RedisConnection.connect(
                to: redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "t"))
            try await connection.command("SET", "k", "v")
            try await redis.kill()
            await #expect(throws: (any Error).self) { try await ping(redis.endpoint) }
            try await redis.restart()
            #expect(redis.port == port)
            try await ping(redis.endpoint)
            // No persistence: the restarted server is empty.
            let fresh = try await RedisConnection.connect(
                to: redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "t"))
            defer { fresh.close() }
            #expect(try await fresh.command("GET", "k") == .null)
        }
    }

    @Test func passwordProtectedServer() async throws {
        let config = RedisServerProcess.Configuration(password: "s3cret-pw", allowExternal: false)
        try await RedisServerProcess.withServer(config) { redis in
            try await ping(redis.endpoint)
            var wrong = redis.endpoint
            wrong.password = "nope"
            await #expect(throws: RedisConnectionError.self) { try await ping(wrong) }
        }
    }
}
