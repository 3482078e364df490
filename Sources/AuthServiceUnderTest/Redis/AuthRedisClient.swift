import RedisPool

/// The one value through which the service performs ALL of its Redis I/O (start-up check, every endpoint, `/health`).
///
/// `RedisConnectionPool` conforms; tests and the performance suite inject wrappers (added latency, a new connection
/// per request, command counting) through ``AuthServer/start(_:redis:logger:)``.
public protocol AuthRedisClient: Sendable {
    /// Sends one command and returns its reply. Error replies may be returned as `.error` or thrown as
    /// `RedisServerError`; the service handles both.
    func command(_ arguments: [String]) async throws -> RedisReply
    /// Like ``command(_:)``; an `idempotent` command (the service's reads) may be retried on another connection when
    /// its connection is lost before the reply. Default: ``command(_:)``, no retry.
    func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply
    /// Sends several commands in one round trip and returns one reply per command, in order.
    func pipeline(_ commands: [[String]]) async throws -> [RedisReply]
}

extension AuthRedisClient {
    public func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        try await command(arguments)
    }
}

extension RedisConnectionPool: AuthRedisClient {}
