/// A lease could not be served by the pool. Errors of Redis itself or of a connection are thrown unchanged
/// (`RedisServerError`, `RedisConnectionError`).
public struct RedisPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        /// No connection became free within `acquireTimeout`.
        case acquireTimeout
        /// The waiter queue is full (`maximumWaiters`).
        case tooManyWaiters
        /// The circuit breaker is open: Redis is unreachable, the pool fails fast while one probe keeps trying.
        case redisUnavailable
        /// The pool is shutting down or shut down.
        case poolShutdown
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "RedisPoolError.\(code.rawValue): \(message)" }

    static let acquireTimeout = RedisPoolError(code: .acquireTimeout, message: "no connection available within acquireTimeout")
    static let tooManyWaiters = RedisPoolError(code: .tooManyWaiters, message: "too many waiters (maximumWaiters reached)")
    static let redisUnavailable = RedisPoolError(code: .redisUnavailable, message: "Redis unavailable (circuit breaker open)")
    static let poolShutdown = RedisPoolError(code: .poolShutdown, message: "connection pool is shut down")
    static let everyConnectionClosed = RedisPoolError(code: .redisUnavailable, message: "every leased connection was closed")
}
