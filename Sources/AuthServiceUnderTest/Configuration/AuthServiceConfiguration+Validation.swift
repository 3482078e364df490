import RedisPool

extension AuthServiceConfiguration {
    /// The recommended minimum listen backlog (see ``backlog``).
    public static let recommendedMinimumBacklog = 4096

    /// Throws ``ConfigurationError`` for values the server cannot run with.
    ///
    /// A backlog under ``recommendedMinimumBacklog`` is not an error; it is reported by ``warnings``.
    public func validate() throws {
        func fail(_ field: String, _ message: String) -> ConfigurationError {
            ConfigurationError(field: field, message: message)
        }
        guard !host.isEmpty else { throw fail("host", "must not be empty") }
        guard (0...65535).contains(port) else { throw fail("port", "\(port) is not in 0...65535") }
        guard (1...256).contains(workers) else { throw fail("workers", "\(workers) is not in 1...256") }
        guard backlog >= 1 else { throw fail("backlog", "must be positive") }
        guard hashIterations >= 1 else { throw fail("hashIterations", "must be at least 1") }
        guard (1...256).contains(hashThreads) else { throw fail("hashThreads", "\(hashThreads) is not in 1...256") }
        guard tokenTTL >= .milliseconds(1) else { throw fail("tokenTTL", "must be at least 1 ms") }
        guard rateLimit.maxFailedAttempts >= 1 else { throw fail("rateLimit.maxFailedAttempts", "must be at least 1") }
        guard rateLimit.window >= .seconds(1) else { throw fail("rateLimit.window", "must be at least 1 s") }
        guard !keyPrefix.isEmpty, !keyPrefix.contains(" ") else {
            throw fail("keyPrefix", "must be non-empty and contain no spaces")
        }
        guard maxBodyBytes >= 256 else { throw fail("maxBodyBytes", "must be at least 256") }
        guard unavailableRetryAfterSeconds >= 1 else { throw fail("unavailableRetryAfterSeconds", "must be >= 1") }
        guard maxConcurrentRequests >= 1 else { throw fail("maxConcurrentRequests", "must be at least 1") }
        guard maxQueuedRequests >= 0 else { throw fail("maxQueuedRequests", "must be >= 0") }
        guard (1...65535).contains(redis.port), !redis.host.isEmpty, redis.database >= 0 else {
            throw fail("redis", "host must not be empty, port in 1...65535, database >= 0 (\(redis))")
        }
    }

    /// Non-fatal problems, logged as warnings when the server starts.
    public var warnings: [String] {
        var result: [String] = []
        if backlog < Self.recommendedMinimumBacklog {
            result.append(
                "backlog \(backlog) is below \(Self.recommendedMinimumBacklog): connection bursts of thousands of users will see SYN drops"
            )
        }
        if environment == "production" && hashIterations < 600_000 {
            result.append("hashIterations \(hashIterations) is below the OWASP recommendation of 600,000 in production")
        }
        return result
    }
}
