import NIOCore
import NIOHTTP1
import RedisPool

extension AuthHTTPError {
    /// Classifies any error escaping a handler into the response the client gets.
    ///
    /// - ``AuthHTTPError``: as is.
    /// - `RedisPoolError` (acquire timeout, too many waiters, Redis unavailable, pool shut down),
    ///   `RedisConnectionError` and ``AdmissionRejected``: 503 + `Retry-After`.
    /// - `RedisServerError`: 503 for transient server states (`LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN`, `NOAUTH`,
    ///   `WRONGPASS`, `READONLY`, `CLUSTERDOWN`, `OOM`, `NOREPLICAS`, `MISCONF`), otherwise 500.
    /// - Anything else: 500 without internals.
    package static func classify(_ error: any Error, retryAfter: Int) -> AuthHTTPError {
        switch error {
        case let error as AuthHTTPError:
            return error
        case is RedisPoolError, is RedisConnectionError, is AdmissionRejected:
            return .unavailable(retryAfter: retryAfter)
        case let error as RedisServerError:
            return Self.isTransient(serverErrorPrefix: error.prefix) ? .unavailable(retryAfter: retryAfter) : .internalError
        default:
            return .internalError
        }
    }

    package static func isTransient(serverErrorPrefix prefix: Substring) -> Bool {
        switch prefix {
        case "LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "NOAUTH", "WRONGPASS", "READONLY", "CLUSTERDOWN", "OOM",
            "NOREPLICAS", "MISCONF":
            true
        default:
            false
        }
    }
}

extension RedisReply {
    /// Throws `RedisServerError` for an error reply (pipelines return them in place).
    @inline(__always)
    package func throwingError() throws -> RedisReply {
        if case .error(let message) = self { throw RedisServerError(message: message) }
        return self
    }
}
