import ArgumentParser
import AuthServiceUnderTest
import RedisPool
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `auth-server [options]`: flags override environment variables (`AUTH_PORT`, `REDIS_URL`, `AUTH_WORKERS`,
/// `AUTH_HASH_ITERATIONS`, ... see `AuthServiceConfiguration.environmentVariables`), which override the defaults.
/// SIGINT / SIGTERM shut down gracefully (in-flight requests finish, the pool closes).
@main
struct AuthServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth-server",
        abstract: "Auth service (register/login/verify/refresh/logout) on SwiftNIO and a Redis connection pool."
    )

    @Option(help: "Profile to start from: production (default) or loadtest (1,000 hash iterations). Env AUTH_PROFILE.")
    var profile: String?
    @Option(help: "Bind address (default 127.0.0.1). Env AUTH_HOST.")
    var host: String?
    @Option(help: "Port, 0 = ephemeral (default 8002). Env AUTH_PORT.")
    var port: Int?
    @Option(help: "Event-loop threads (default 1). Env AUTH_WORKERS.")
    var workers: Int?
    @Option(help: "Listen backlog (default 4096). Env AUTH_BACKLOG.")
    var backlog: Int?
    @Option(name: .customLong("redis-url"), help: "redis://[user:password@]host:port[/db]. Env REDIS_URL.")
    var redisURL: String?
    @Option(help: "Environment name (default production). Env AUTH_ENVIRONMENT.")
    var environment: String?
    @Option(help: "PBKDF2 iterations (default 600000). Env AUTH_HASH_ITERATIONS.")
    var hashIterations: Int?
    @Option(help: "PBKDF2 threads (default 2). Env AUTH_HASH_THREADS.")
    var hashThreads: Int?
    @Option(help: "Token lifetime in seconds (default 3600). Env AUTH_TOKEN_TTL_SECONDS.")
    var tokenTTLSeconds: Double?
    @Option(help: "Failed logins per window before 429 (default 5). Env AUTH_RATE_LIMIT_MAX_FAILED.")
    var rateLimitMaxFailed: Int?
    @Option(help: "Rate-limit window in seconds (default 900). Env AUTH_RATE_LIMIT_WINDOW_SECONDS.")
    var rateLimitWindowSeconds: Int?
    @Option(help: "Redis key prefix (default auth:). Env AUTH_KEY_PREFIX.")
    var keyPrefix: String?
    @Option(help: "Pool maximum connections (default 160). Env AUTH_POOL_MAX_CONNECTIONS.")
    var poolMaxConnections: Int?
    @Option(help: "Pool acquire timeout in ms (default 1000). Env AUTH_POOL_ACQUIRE_TIMEOUT_MS.")
    var poolAcquireTimeoutMs: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info). Env LOG_LEVEL.")
    var logLevel: String?

    func run() async throws {
        let fileLimit = raiseOpenFileLimit()

        var environmentValues = ProcessEnvironment.values
        if let profile { environmentValues["AUTH_PROFILE"] = profile }
        var configuration = try AuthServiceConfiguration.fromEnvironment(environmentValues)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let workers { configuration.workers = workers }
        if let backlog { configuration.backlog = backlog }
        if let redisURL {
            do { configuration.redis = try RedisEndpoint(url: redisURL) } catch {
                throw ValidationError("--redis-url: \(error.description)")
            }
        }
        if let environment { configuration.environment = environment }
        if let hashIterations { configuration.hashIterations = hashIterations }
        if let hashThreads { configuration.hashThreads = hashThreads }
        if let tokenTTLSeconds { configuration.tokenTTL = .milliseconds(Int64((tokenTTLSeconds * 1000).rounded())) }
        if let rateLimitMaxFailed { configuration.rateLimit.maxFailedAttempts = rateLimitMaxFailed }
        if let rateLimitWindowSeconds { configuration.rateLimit.window = .seconds(rateLimitWindowSeconds) }
        if let keyPrefix { configuration.keyPrefix = keyPrefix }
        if let poolMaxConnections { configuration.pool.maximumConnections = poolMaxConnections }
        if let poolAcquireTimeoutMs { configuration.pool.acquireTimeout = .milliseconds(poolAcquireTimeoutMs) }
        try configuration.validate()

        let level = (logLevel ?? environmentValues["LOG_LEVEL"]).flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "auth-server")
        logger.info("open file limit", metadata: ["soft": "\(fileLimit.soft)", "hard": "\(fileLimit.hard)"])

        configuration.prometheusRegistry = AuthServer.bootstrapProcessMetrics()
        let server = try await AuthServer.start(configuration, logger: logger)
        let group = ServiceGroup(
            services: [server],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
        logger.info("auth-server stopped")
    }

    /// Raises the RLIMIT_NOFILE soft limit to the hard limit (thousands of client sockets + 160 Redis connections).
    private func raiseOpenFileLimit() -> (soft: UInt64, hard: UInt64) {
        var limits = rlimit()
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limits) == 0 else { return (0, 0) }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(resource, &raised) == 0 { limits = raised }
        }
        return (UInt64(limits.rlim_cur), UInt64(limits.rlim_max))
    }
}

/// The process environment without importing Foundation into the executable.
enum ProcessEnvironment {
    static var values: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
