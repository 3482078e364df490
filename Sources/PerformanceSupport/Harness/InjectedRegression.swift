import Logging
import NIOCore
import NIOPosix
import AuthServiceUnderTest
import RedisPool

/// Deliberate regressions that `scripts/gate-check` injects to prove the gate catches them. Test support only: the
/// service has no such switches; these wrap or reconfigure it from the outside.
public enum InjectedRegression: String, Sendable, CaseIterable {
    /// The pool shrunk to 4 connections (a bad configuration change).
    case poolMaximum4 = "pool-max-4"
    /// A new Redis connection for every command instead of the pool (the classic pool-bypass regression).
    case connectionPerRequest = "connection-per-request"
    /// 2 ms added to every Redis call (a slow network hop or an accidental extra round trip).
    case redisDelay2ms = "redis-delay-2ms"

    /// Applies configuration-level regressions.
    public func apply(to configuration: inout AuthServiceConfiguration) {
        switch self {
        case .poolMaximum4:
            configuration.pool.maximumConnections = 4
            configuration.pool.minimumIdleConnections = min(configuration.pool.minimumIdleConnections, 4)
        case .connectionPerRequest, .redisDelay2ms:
            break
        }
    }

    /// The client the service uses for its Redis I/O under this regression, built from the server's own pool.
    public func client(
        pool: RedisConnectionPool, endpoint: RedisEndpoint, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) -> any AuthRedisClient {
        switch self {
        case .poolMaximum4: pool
        case .connectionPerRequest:
            ConnectionPerRequestClient(endpoint: endpoint, eventLoopGroup: eventLoopGroup, logger: logger)
        case .redisDelay2ms: DelayedRedisClient(base: pool, delay: .milliseconds(2))
        }
    }
}

/// Opens a connection for each call and closes it afterwards: what a service without a pool does.
struct ConnectionPerRequestClient: AuthRedisClient {
    let endpoint: RedisEndpoint
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    private func withFreshConnection<R: Sendable>(_ body: (RedisConnection) async throws -> R) async throws -> R {
        let connection = try await RedisConnection.connect(
            to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(2),
            eventLoop: eventLoopGroup.next(), logger: logger)
        defer { connection.close() }
        return try await body(connection)
    }

    func command(_ arguments: [String]) async throws -> RedisReply {
        try await withFreshConnection { try await $0.command(arguments) }
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await withFreshConnection { try await $0.pipeline(commands) }
    }
}

/// Delays every call by a fixed amount before passing it on.
struct DelayedRedisClient: AuthRedisClient {
    let base: any AuthRedisClient
    let delay: Duration

    func command(_ arguments: [String]) async throws -> RedisReply {
        try await Task.sleep(for: delay)
        return try await base.command(arguments)
    }

    /// Forwarded, so the injected run differs from a clean one by the delay only (reads keep their retries).
    func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        try await Task.sleep(for: delay)
        return try await base.command(arguments, idempotent: idempotent)
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await Task.sleep(for: delay)
        return try await base.pipeline(commands)
    }
}
