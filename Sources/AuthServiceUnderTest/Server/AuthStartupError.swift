/// ``AuthServer/start(_:redis:logger:)`` could not bring the server up.
public struct AuthStartupError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The configuration failed validation.
        case invalidConfiguration
        /// Redis did not answer `PING` in time (unreachable, wrong port, not yet started).
        case redisUnreachable
        /// Redis answered but refused the connection's `AUTH`/`SELECT` (wrong password, bad database).
        case redisAuthenticationFailed
        /// Redis answered `PING` with an error (e.g. `LOADING`, `NOAUTH`).
        case redisError
        /// Binding the listening socket failed (port in use, bad host), or the server stopped before listening.
        case listenFailed
    }

    public var code: Code
    /// A message fit for an operator; contains the Redis endpoint with its password masked, never a secret.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "auth-server start-up failed (\(code.rawValue)): \(message)" }
}
