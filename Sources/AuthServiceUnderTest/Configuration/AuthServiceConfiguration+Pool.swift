import RedisPool

extension AuthServiceConfiguration {
    /// Applies the `AUTH_POOL_*` environment variables to ``pool``.
    mutating func applyPoolEnvironment(_ reader: EnvironmentReader) throws {
        if let value = try reader.int("AUTH_POOL_MAX_CONNECTIONS") {
            guard value >= 1 else {
                throw ConfigurationError(field: "AUTH_POOL_MAX_CONNECTIONS", message: "must be at least 1")
            }
            self.pool.maximumConnections = value
        }
        if let value = try reader.int("AUTH_POOL_MIN_CONNECTIONS") {
            self.pool.minimumConnections = max(0, min(value, self.pool.maximumConnections))
        }
        if let value = try reader.int("AUTH_POOL_MAX_WAITERS") { self.pool.maximumWaiters = max(0, value) }
        if let value = try reader.milliseconds("AUTH_POOL_ACQUIRE_TIMEOUT_MS") { self.pool.acquireTimeout = value }
        if let value = try reader.milliseconds("AUTH_POOL_CONNECT_TIMEOUT_MS") { self.pool.connectTimeout = value }
        if let value = try reader.milliseconds("AUTH_POOL_COMMAND_TIMEOUT_MS") { self.pool.commandTimeout = value }
        if let value = try reader.int("AUTH_POOL_AUTO_PIPELINE_LIMIT") {
            guard value >= 1 else {
                throw ConfigurationError(field: "AUTH_POOL_AUTO_PIPELINE_LIMIT", message: "must be at least 1")
            }
            self.pool.autoPipelineLimit = value
        }
    }
}
