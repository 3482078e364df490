import Logging
import NIOCore
import NIOPosix
import AuthServiceUnderTest
import RedisPool

/// Deliberate regressions that `scripts/gate-check` injects to prove CI's gate catches them, each shaped like a real
/// one. Test support only: the service has no such switches; these wrap or reconfigure it from the outside
/// (`PERF_INJECT_REGRESSION`, honoured by the load scenarios and by `cost-gate serve`).
public enum InjectedRegression: String, Sendable, CaseIterable {
    /// Every Redis call first does extra CPU work on the request's task: about 20% of what GET /auth/verify costs
    /// (``CPUWorkClient/iterations``), as a slower serializer or an added check would.
    case cpuWork20 = "cpu-work-20"
    /// One extra round trip per Redis call that is not a data command: a `PING` on the leased connection before the
    /// command (a "test on borrow" validation).
    case extraRoundTrip = "extra-round-trip"
    /// 2 ms spent while holding the lease, before the command (a slow hop or blocking work inside the lease).
    case leaseDelay2ms = "lease-delay-2ms"
    /// The service's Redis I/O goes through a second pool that never opens more than 4 connections, while the pool
    /// the server reports (`/health/redis`, metrics) is the configured one of 160: a pool that silently opens fewer
    /// connections than configured.
    case poolSilently4 = "pool-silently-4"
    /// A new Redis connection for every command instead of the pool (the classic pool-bypass regression).
    case connectionPerRequest = "connection-per-request"

    /// The client the service uses for its Redis I/O under this regression, built from the server's own pool.
    public func client(
        pool: RedisConnectionPool, endpoint: RedisEndpoint, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) -> any AuthRedisClient {
        switch self {
        case .cpuWork20:
            CPUWorkClient(base: pool)
        case .extraRoundTrip:
            LeasedConnectionClient(pool: pool, beforeEachCall: { connection in _ = try await connection.command(["PING"]) })
        case .leaseDelay2ms:
            LeasedConnectionClient(pool: pool, beforeEachCall: { _ in try await Task.sleep(for: .milliseconds(2)) })
        case .poolSilently4:
            HiddenSmallPoolClient(
                pool: RedisConnectionPool(
                    configuration: Self.smallPoolConfiguration(pool.configuration),
                    endpoint: endpoint, eventLoopGroup: eventLoopGroup, logger: logger))
        case .connectionPerRequest:
            ConnectionPerRequestClient(endpoint: endpoint, eventLoopGroup: eventLoopGroup, logger: logger)
        }
    }

    private static func smallPoolConfiguration(_ configuration: RedisConnectionPool.Configuration) -> RedisConnectionPool.Configuration {
        var small = configuration
        small.maximumConnections = 4
        small.minimumConnections = min(configuration.minimumConnections, 4)
        small.metricsPublishInterval = .seconds(3600)
        small.poolName = "injected-hidden"
        return small
    }
}

/// Burns a fixed amount of CPU on the calling thread before each call.
struct CPUWorkClient: AuthRedisClient {
    /// Rounds of a xorshift loop: about 20% of GET /auth/verify's server CPU on the 2-core reference machine
    /// (`scripts/cost` shows the figure it adds).
    static let iterations = 6_500
    let base: any AuthRedisClient

    @inline(never)
    static func burn() -> UInt64 {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<iterations {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
        }
        return x
    }

    func command(_ arguments: [String]) async throws -> RedisReply {
        if Self.burn() == 0 { return .null }
        return try await base.command(arguments)
    }

    func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        if Self.burn() == 0 { return .null }
        return try await base.command(arguments, idempotent: idempotent)
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        if Self.burn() == 0 { return [] }
        return try await base.pipeline(commands)
    }

    func command(_ arguments: [String], idempotent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<RedisReply> {
        if Self.burn() == 0 { return eventLoop.makeSucceededFuture(.null) }
        return base.command(arguments, idempotent: idempotent, on: eventLoop)
    }
}

/// Leases a connection from the pool, runs `beforeEachCall` on it, then the call, then releases the lease.
struct LeasedConnectionClient: AuthRedisClient {
    let pool: RedisConnectionPool
    let beforeEachCall: @Sendable (RedisConnection) async throws -> Void

    func command(_ arguments: [String]) async throws -> RedisReply {
        try await pool.withConnection { connection in
            try await beforeEachCall(connection)
            return try await connection.command(arguments)
        }
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await pool.withConnection { connection in
            try await beforeEachCall(connection)
            return try await connection.pipeline(commands)
        }
    }
}

/// Sends everything through its own pool, started on first use and never reported anywhere.
final class HiddenSmallPoolClient: AuthRedisClient {
    let pool: RedisConnectionPool
    private let runner: Task<Void, Never>

    init(pool: RedisConnectionPool) {
        self.pool = pool
        self.runner = Task { try? await pool.run() }
    }

    deinit { runner.cancel() }

    func command(_ arguments: [String]) async throws -> RedisReply { try await pool.command(arguments) }

    func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        try await pool.command(arguments, idempotent: idempotent)
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] { try await pool.pipeline(commands) }
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
