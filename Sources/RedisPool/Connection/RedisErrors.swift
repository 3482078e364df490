/// An error reply from Redis (`-ERR ...`, `-WRONGPASS ...`), carrying Redis's message.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message exactly as Redis sent it, including its prefix (`ERR`, `WRONGTYPE`, ...).
    public var message: String
    public init(message: String) { self.message = message }
    /// The first word of the message, e.g. `ERR` or `WRONGPASS`.
    public var prefix: Substring { message.prefix { $0 != " " } }
    public var description: String { "Redis error: \(message)" }
}

/// A failure of the connection itself (as opposed to an error reply).
public struct RedisConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The TCP connect failed (refused, unreachable).
        case connectFailed
        /// The TCP connect did not finish within the connect timeout.
        case connectTimeout
        /// No reply within the command timeout; the connection was closed because its reply stream is no longer aligned.
        case commandTimeout
        /// The connection closed (by the server, a network error or `close()`) before the reply arrived.
        case connectionClosed
        /// The server sent bytes that are not valid RESP.
        case protocolError
        /// `AUTH` or `SELECT` after connecting was refused.
        case handshakeFailed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "Redis connection error (\(code.rawValue)): \(message)" }
}
