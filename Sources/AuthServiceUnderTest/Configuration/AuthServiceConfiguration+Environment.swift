#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisPool

extension AuthServiceConfiguration {
    /// Environment variables read by ``fromEnvironment(_:)``, in the order it reads them: derived by reading an empty
    /// environment, so the list cannot miss one.
    ///
    /// `AUTH_PROFILE` (`production` | `loadtest`) picks the starting profile; the others override single fields (see
    /// each field's documentation for its variable).
    public static var environmentVariables: [String] {
        let reader = EnvironmentReader(values: [:])
        _ = try? read(reader)
        return reader.namesRead
    }

    /// Builds a configuration from environment variables over the defaults, then validates it.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable for an unparsable or out-of-range value.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AuthServiceConfiguration {
        let configuration = try read(EnvironmentReader(values: environment))
        try configuration.validate()
        return configuration
    }

    /// The profile `AUTH_PROFILE` names, with every other variable `reader` holds applied over it.
    static func read(_ reader: EnvironmentReader) throws -> AuthServiceConfiguration {
        var configuration: AuthServiceConfiguration
        switch reader.string("AUTH_PROFILE")?.lowercased() {
        case nil, "production": configuration = AuthServiceConfiguration()
        case "loadtest", "load-test": configuration = .loadTest
        case let other?:
            throw ConfigurationError(field: "AUTH_PROFILE", message: "unknown profile '\(other)' (production|loadtest)")
        }
        if let value = reader.string("AUTH_HOST") { configuration.host = value }
        if let value = try reader.int("AUTH_PORT") { configuration.port = value }
        if let value = try reader.int("AUTH_WORKERS") { configuration.workers = value }
        if let value = try reader.bool("AUTH_DEDICATED_REDIS_LOOP") { configuration.dedicatedRedisEventLoop = value }
        if let value = try reader.int("AUTH_BACKLOG") { configuration.backlog = value }
        if let value = try reader.redisEndpoint("REDIS_URL") { configuration.redis = value }
        if let value = reader.string("AUTH_ENVIRONMENT") { configuration.environment = value }
        if let value = try reader.int("AUTH_HASH_ITERATIONS") { configuration.hashIterations = value }
        if let value = try reader.int("AUTH_HASH_THREADS") { configuration.hashThreads = value }
        if let value = try reader.seconds("AUTH_TOKEN_TTL_SECONDS") { configuration.tokenTTL = value }
        if let value = try reader.int("AUTH_RATE_LIMIT_MAX_FAILED") { configuration.rateLimit.maxFailedAttempts = value }
        if let value = try reader.seconds("AUTH_RATE_LIMIT_WINDOW_SECONDS") { configuration.rateLimit.window = value }
        if let value = reader.string("AUTH_KEY_PREFIX") { configuration.keyPrefix = value }
        if let value = try reader.int("AUTH_MAX_BODY_BYTES") { configuration.maxBodyBytes = value }
        if let value = try reader.int("AUTH_RETRY_AFTER_SECONDS") { configuration.unavailableRetryAfterSeconds = value }
        if let value = try reader.int("AUTH_MAX_CONCURRENT_REQUESTS") { configuration.maxConcurrentRequests = value }
        if let value = try reader.int("AUTH_MAX_QUEUED_REQUESTS") { configuration.maxQueuedRequests = value }
        if let value = try reader.bool("AUTH_STARTUP_CHECK") { configuration.startupRedisCheck = value }
        try configuration.applyPoolEnvironment(reader)
        return configuration
    }
}

/// Typed access to environment values; empty strings count as unset. Remembers every name asked for.
final class EnvironmentReader {
    let values: [String: String]
    /// Every variable asked for, in order, once each.
    private(set) var namesRead: [String] = []

    init(values: [String: String]) {
        self.values = values
    }

    func string(_ name: String) -> String? {
        if !namesRead.contains(name) { namesRead.append(name) }
        guard let value = values[name]?.trimmedOfSpaces, !value.isEmpty else { return nil }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else {
            throw ConfigurationError(field: name, message: "'\(text)' is not an integer")
        }
        return value
    }

    func seconds(_ name: String) throws -> Duration? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0 else {
            throw ConfigurationError(field: name, message: "'\(text)' is not a non-negative number of seconds")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    func redisEndpoint(_ name: String) throws -> RedisEndpoint? {
        guard let text = string(name) else { return nil }
        do { return try RedisEndpoint(url: text) } catch { throw ConfigurationError(field: name, message: error.description) }
    }

    func milliseconds(_ name: String) throws -> Duration? {
        guard let value = try int(name) else { return nil }
        guard value >= 0 else { throw ConfigurationError(field: name, message: "must not be negative") }
        return .milliseconds(value)
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(field: name, message: "'\(text)' is not a boolean")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmedOfSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
