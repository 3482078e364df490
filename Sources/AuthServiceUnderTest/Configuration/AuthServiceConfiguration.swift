import Prometheus
import RedisPool

/// Everything that shapes one auth server instance. Every field has a documented default; the defaults are the
/// production profile. Override them in code, through environment variables (``fromEnvironment(_:)``) or, for the
/// `auth-server` executable, through command-line flags (flags win over environment variables).
public struct AuthServiceConfiguration: Sendable {
    /// Address to bind. Default `"127.0.0.1"`. Env `AUTH_HOST`.
    public var host: String = "127.0.0.1"
    /// TCP port to bind. Default `8002`; `0` binds an ephemeral port (read it back from ``AuthServer/port``).
    /// Env `AUTH_PORT`.
    public var port: Int = 8002
    /// Event-loop threads serving HTTP ("workers"). Default `1`, as in the seed deployment. The pool's Redis I/O runs
    /// on the same loops unless ``dedicatedRedisEventLoop``. Env `AUTH_WORKERS`.
    public var workers: Int = 1
    /// Run the pool's Redis I/O on a dedicated event-loop thread instead of the workers' loops. Default `false`: a
    /// request and its Redis round trip then stay on one thread, with no wake-up of another thread per request
    /// (`scripts/bench server` measures both). Env `AUTH_DEDICATED_REDIS_LOOP`.
    public var dedicatedRedisEventLoop: Bool = false
    /// Listen backlog. Default `4096` (the machine's `net.core.somaxconn`) so 2,000 simultaneous users can connect.
    /// Values below 4096 are accepted but logged as a warning at start. Env `AUTH_BACKLOG`.
    public var backlog: Int = 4096
    /// The Redis server. Default `127.0.0.1:6379`, no password, database 0. Env `REDIS_URL`
    /// (`redis://[user:password@]host:port[/db]`).
    public var redis = RedisEndpoint()
    /// Connection-pool configuration (defaults from `RedisConnectionPool.Configuration`: 160 connections, ...).
    /// Env `AUTH_POOL_MAX_CONNECTIONS`, `AUTH_POOL_MIN_CONNECTIONS`, `AUTH_POOL_MAX_WAITERS`,
    /// `AUTH_POOL_ACQUIRE_TIMEOUT_MS`, `AUTH_POOL_CONNECT_TIMEOUT_MS`, `AUTH_POOL_COMMAND_TIMEOUT_MS`,
    /// `AUTH_POOL_AUTO_PIPELINE_LIMIT`.
    public var pool: RedisConnectionPool.Configuration = .init()
    /// Deployment name, reported by `/health` and recorded by load tests. Default `"production"`.
    /// Env `AUTH_ENVIRONMENT`.
    public var environment: String = "production"
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes. Default `600_000` (OWASP 2023 advice).
    /// Existing records keep the count they were created with. Env `AUTH_HASH_ITERATIONS`.
    public var hashIterations: Int = 600_000
    /// Threads of the dedicated pool that runs PBKDF2 (kept off the event loops and Swift's cooperative pool).
    /// Default `2`. Env `AUTH_HASH_THREADS`.
    public var hashThreads: Int = 2
    /// Lifetime of an issued token (Redis key TTL, set with `PX`). Default 1 hour. Env `AUTH_TOKEN_TTL_SECONDS`
    /// (a decimal number of seconds, e.g. `0.5`).
    public var tokenTTL: Duration = .seconds(3600)
    /// Failed-login rate limit per username. Default 5 failures per 15 minutes.
    public var rateLimit: RateLimit = .init()
    /// Namespace prefix of every Redis key this service writes. Default `"auth:"`. Env `AUTH_KEY_PREFIX`.
    public var keyPrefix: String = "auth:"
    /// Largest request body accepted; larger bodies get 413. Default 16 KiB (16,384 bytes). Env `AUTH_MAX_BODY_BYTES`.
    public var maxBodyBytes: Int = 16 * 1024
    /// Requests running their `/auth/*` handlers at once; the others wait in arrival order (``AdmissionLimiter``), so
    /// an overload queues before the pool instead of inside it. Default `64` (40% of the default pool of 160: a
    /// Redis round trip is a small part of a request, so 64 handlers keep a 2-core machine busy).
    /// Env `AUTH_MAX_CONCURRENT_REQUESTS`.
    public var maxConcurrentRequests: Int = 64
    /// Requests that may wait for admission; one more is answered 503 with `Retry-After`. Default `8192` (more than
    /// the 5,000 users of the pool comparison, each with one request at a time, so a closed population never overflows).
    /// Env `AUTH_MAX_QUEUED_REQUESTS`.
    public var maxQueuedRequests: Int = 8192
    /// Seconds sent in `Retry-After` with 503 responses (Redis unavailable, pool exhausted). Default `1`.
    /// Env `AUTH_RETRY_AFTER_SECONDS`.
    public var unavailableRetryAfterSeconds: Int = 1
    /// Whether ``AuthServer/start(_:redis:logger:)`` PINGs Redis through the client before listening, failing the
    /// start with ``AuthStartupError`` if there is no `PONG` within `pool.connectTimeout` (plus the pool's
    /// acquire timeout). Default `true`. Env `AUTH_STARTUP_CHECK` (`true`/`false`).
    public var startupRedisCheck: Bool = true
    /// `Server` response header; `nil` sends none. Default `nil`.
    public var serverName: String? = nil
    /// Registry behind `/metrics`. Default `nil`: a fresh registry per server instance, so many servers can run in one
    /// process. The `auth-server` executable passes ``AuthServer/bootstrapProcessMetrics()``'s registry so the pool's
    /// swift-metrics (`db_client_connection_*`) are exported too.
    public var prometheusRegistry: PrometheusCollectorRegistry? = nil

    /// Failed-login rate limit: after `maxFailedAttempts` failures within `window`, further login attempts for that
    /// username get 429 with `Retry-After` until the window expires. The window restarts at every failed attempt.
    public struct RateLimit: Sendable, Hashable {
        /// Failures allowed per window. Default `5`. Env `AUTH_RATE_LIMIT_MAX_FAILED`.
        public var maxFailedAttempts: Int = 5
        /// Window length, whole seconds (Redis `EXPIRE`). Default 15 minutes. Env `AUTH_RATE_LIMIT_WINDOW_SECONDS`.
        public var window: Duration = .seconds(900)

        public init(maxFailedAttempts: Int = 5, window: Duration = .seconds(900)) {
            self.maxFailedAttempts = maxFailedAttempts
            self.window = window
        }
    }

    /// The production profile (all defaults above).
    public init() {}

    /// The load-test profile: production defaults except `hashIterations = 1_000` so that register/login scenarios
    /// measure the service and the pool rather than PBKDF2 (600,000 iterations cost ~0.2 s of CPU per login), and
    /// `environment = "loadtest"`. Load-test results must record the iteration count they ran with.
    public static let loadTest: AuthServiceConfiguration = {
        var configuration = AuthServiceConfiguration()
        configuration.hashIterations = 1_000
        configuration.environment = "loadtest"
        return configuration
    }()
}
