import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RedisPool
import ServiceLifecycle

/// One running auth service: the HTTP server on SwiftNIO's channel pipeline + Redis connection pool + PBKDF2 thread
/// pool.
///
/// In-process:
/// ```swift
/// let server = try await AuthServer.start(.loadTest, logger: logger)   // returns once listening
/// print(server.port)
/// try await server.shutdown()                                          // drains, closes the pool
/// ```
/// Standalone it is also a ServiceLifecycle `Service`: put it in a `ServiceGroup` with signal handling; graceful
/// shutdown of the group drains and stops it.
public final class AuthServer: Service, Sendable {
    /// The actual bound port (an ephemeral one when the configuration asked for port 0).
    public let port: Int
    /// The server's connection pool (`/health/redis` reports it). It runs even when a client was injected.
    public let pool: RedisConnectionPool
    /// The configuration the server runs with.
    public let configuration: AuthServiceConfiguration
    /// Registry behind `/metrics`.
    package let metrics: AuthHTTPMetrics

    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, any Error>

    private init(
        port: Int,
        pool: RedisConnectionPool,
        configuration: AuthServiceConfiguration,
        metrics: AuthHTTPMetrics,
        serviceGroup: ServiceGroup,
        runTask: Task<Void, any Error>
    ) {
        self.port = port
        self.pool = pool
        self.configuration = configuration
        self.metrics = metrics
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// Validates the configuration, starts the pool, checks Redis with `PING` (when `startupRedisCheck`), binds and
    /// returns once the server is listening.
    ///
    /// - Parameters:
    ///   - redis: the client for ALL of the service's Redis I/O; `nil` uses the server's own pool. Wrappers (added
    ///     latency, counting, a connection per request) go here.
    /// - Throws: ``ConfigurationError`` for an invalid configuration; ``AuthStartupError`` when Redis does not answer
    ///   `PING` within `pool.connectTimeout + pool.acquireTimeout` (`.redisUnreachable`), refuses the password
    ///   (`.redisAuthenticationFailed`), or the socket cannot be bound (`.listenFailed`). Nothing keeps running after a
    ///   throw.
    public static func start(
        _ configuration: AuthServiceConfiguration,
        redis: (any AuthRedisClient)? = nil,
        logger: Logger
    ) async throws -> AuthServer {
        try await start(configuration, redisClient: { pool in redis ?? pool }, logger: logger)
    }

    /// Like ``start(_:redis:logger:)``, with the client built from the server's own pool: a wrapper around the pool
    /// (added latency, counting) keeps `/health/redis` reporting the pool that actually carries the I/O.
    public static func start(
        _ configuration: AuthServiceConfiguration,
        redisClient makeClient: (RedisConnectionPool) -> any AuthRedisClient,
        logger: Logger
    ) async throws -> AuthServer {
        try configuration.validate()
        for warning in configuration.warnings { logger.warning("\(warning)") }
        let endpoint = configuration.redis

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: configuration.workers)
        let redisEventLoopGroup =
            configuration.dedicatedRedisEventLoop ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : eventLoopGroup
        let hashPool = NIOThreadPool(numberOfThreads: configuration.hashThreads)
        hashPool.start()
        let pool = RedisConnectionPool(
            configuration: configuration.pool,
            endpoint: endpoint,
            eventLoopGroup: redisEventLoopGroup,
            logger: logger
        )
        let client: any AuthRedisClient = makeClient(pool)
        let metrics = AuthHTTPMetrics(registry: configuration.prometheusRegistry ?? PrometheusCollectorRegistry())
        let admission = AdmissionLimiter(
            maximumConcurrent: configuration.maxConcurrentRequests, maximumQueued: configuration.maxQueuedRequests)
        let router = AuthRouter(
            auth: AuthHandlers(configuration: configuration, redis: client, hashPool: hashPool, logger: logger),
            health: HealthHandlers(
                redis: client,
                pool: pool,
                admission: admission,
                metrics: metrics,
                environment: configuration.environment,
                retryAfterSeconds: configuration.unavailableRetryAfterSeconds
            ),
            admission: admission,
            retryAfterSeconds: configuration.unavailableRetryAfterSeconds,
            logger: logger
        )

        let listening = ListeningSignal()
        let checkEventLoop = eventLoopGroup.next()
        let application = AuthHTTPServer(
            configuration: configuration,
            router: router,
            metrics: metrics,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            beforeStart: {
                guard configuration.startupRedisCheck else { return }
                try await AuthServer.startupCheck(
                    client: client,
                    endpoint: endpoint,
                    configuration: configuration,
                    eventLoop: checkEventLoop,
                    logger: logger
                )
            },
            onListening: { port in await listening.succeed(port: port) }
        )

        // Started in order, shut down in reverse: the HTTP server drains first, then the pool closes.
        let serviceGroup = ServiceGroup(services: [pool, application], logger: logger)
        let runTask = Task<Void, any Error> {
            var failure: (any Error)?
            do {
                try await serviceGroup.run()
            } catch {
                failure = error
            }
            try? await hashPool.shutdownGracefully()
            try? await eventLoopGroup.shutdownGracefully()
            if configuration.dedicatedRedisEventLoop { try? await redisEventLoopGroup.shutdownGracefully() }
            await listening.fail(failure.map(Self.startupError) ?? AuthStartupError(.listenFailed, "server stopped before listening"))
            if let failure { throw failure }
        }

        do {
            let port = try await listening.wait()
            logger.info(
                "auth-server listening",
                metadata: [
                    "host": "\(configuration.host)", "port": "\(port)", "workers": "\(configuration.workers)",
                    "environment": "\(configuration.environment)", "hashIterations": "\(configuration.hashIterations)",
                    "redis": "\(endpoint)",
                ]
            )
            return AuthServer(
                port: port,
                pool: pool,
                configuration: configuration,
                metrics: metrics,
                serviceGroup: serviceGroup,
                runTask: runTask
            )
        } catch {
            await serviceGroup.triggerGracefulShutdown()
            _ = try? await runTask.value
            throw error
        }
    }

    private static func startupError(_ error: any Error) -> any Error {
        if error is AuthStartupError || error is ConfigurationError { return error }
        return AuthStartupError(.listenFailed, "\(error)")
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish, closes the pool's connections (within the
    /// pool's `shutdownGracePeriod`), then stops the event loops and the hashing threads. Idempotent.
    public func shutdown() async throws {
        await self.serviceGroup.triggerGracefulShutdown()
        try await self.runTask.value
    }

    /// `Service`: runs until the server stops; graceful shutdown of the enclosing group (SIGTERM/SIGINT in
    /// `auth-server`) or task cancellation shut it down.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await self.runTask.value
            } onCancel: {
                Task { await self.serviceGroup.triggerGracefulShutdown() }
            }
        } onGracefulShutdown: {
            Task { await self.serviceGroup.triggerGracefulShutdown() }
        }
    }
}

extension AuthServer {
    private static let processRegistry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// For a process that runs exactly one server (the `auth-server` executable): bootstraps the global
    /// `MetricsSystem` with a `PrometheusMetricsFactory` over a process-wide registry — once; later calls return the
    /// same registry without bootstrapping again — and returns the registry to put in
    /// ``AuthServiceConfiguration/prometheusRegistry``. Call it before ``start(_:redis:logger:)`` so the pool's
    /// swift-metrics land in it. In-process users (tests) that start many servers should not call it.
    public static func bootstrapProcessMetrics() -> PrometheusCollectorRegistry {
        processRegistry
    }
}

/// One-shot "the server is listening on port N / failed" signal between `onServerRunning` and `start`.
private actor ListeningSignal {
    private var result: Result<Int, any Error>?
    private var waiters: [CheckedContinuation<Int, any Error>] = []

    func succeed(port: Int) { self.complete(.success(port)) }
    func fail(_ error: any Error) { self.complete(.failure(error)) }

    private func complete(_ result: Result<Int, any Error>) {
        guard self.result == nil else { return }
        self.result = result
        for waiter in self.waiters { waiter.resume(with: result) }
        self.waiters = []
    }

    func wait() async throws -> Int {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { self.waiters.append($0) }
    }
}
