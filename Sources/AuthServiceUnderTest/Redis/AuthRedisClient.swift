import NIOCore
import RedisPool

/// The one value through which the service performs ALL of its Redis I/O (start-up check, every endpoint, `/health`).
///
/// `RedisConnectionPool` conforms; tests and the performance suite inject wrappers (added latency, a new connection
/// per request, command counting) through ``AuthServer/start(_:redis:logger:)``.
///
/// The HTTP handlers run on event loops and call the future-returning requirements; their defaults bridge to the
/// `async` ones through a task, so a wrapper only has to implement the `async` requirements (and pays for the bridge).
public protocol AuthRedisClient: Sendable {
    /// Sends one command and returns its reply. Error replies may be returned as `.error` or thrown as
    /// `RedisServerError`; the service handles both.
    func command(_ arguments: [String]) async throws -> RedisReply
    /// Like ``command(_:)``; an `idempotent` command (the service's reads) may be retried on another connection when
    /// its connection is lost before the reply. Default: ``command(_:)``, no retry.
    func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply
    /// Sends several commands in one round trip and returns one reply per command, in order.
    func pipeline(_ commands: [[String]]) async throws -> [RedisReply]
    /// ``command(_:idempotent:)`` as a future; it may complete on any event loop (callers hop). Default: a task on
    /// `eventLoop` running the `async` requirement.
    func command(_ arguments: [String], idempotent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<RedisReply>
}

extension AuthRedisClient {
    public func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        try await command(arguments)
    }

    public func command(_ arguments: [String], idempotent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<RedisReply> {
        eventLoop.makeFutureWithTask { try await self.command(arguments, idempotent: idempotent) }
    }
}

extension RedisConnectionPool: AuthRedisClient {
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await command(arguments, idempotent: false)
    }

    public func command(_ arguments: [String], idempotent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<RedisReply> {
        command(arguments, idempotent: idempotent)
    }
}
