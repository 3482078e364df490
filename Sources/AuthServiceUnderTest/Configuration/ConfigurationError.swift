/// A configuration value that cannot be used, e.g. `AUTH_PORT=http`.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field or environment variable at fault.
    public var field: String
    /// What is wrong with it.
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "invalid configuration \(field): \(message)" }
}
