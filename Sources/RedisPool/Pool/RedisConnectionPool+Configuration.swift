extension RedisConnectionPool {
    /// Tuning knobs of a ``RedisConnectionPool``. Every field has a documented default; `init()` gives a pool sized for
    /// the auth service (160 connections).
    public struct Configuration: Sendable, Hashable {
        /// Hard cap on open connections (connecting + idle + leased + being pinged + closing). Default `160`.
        public var maximumConnections: Int
        /// Minimum number of open connections, idle or leased (a total, not a number of idle ones): opened by `run()`,
        /// reopened when connections close, and never closed by the idle timeout. Clamped to `0...maximumConnections`.
        /// Default `8`.
        public var minimumConnections: Int
        /// Longest time a caller waits for a connection before failing with ``RedisPoolError/Code/acquireTimeout``.
        /// Default `1 s`. Precision is ``tickInterval``.
        public var acquireTimeout: Duration
        /// Longest waiter queue; a lease beyond it fails at once with ``RedisPoolError/Code/tooManyWaiters``.
        /// Default `4096`.
        public var maximumWaiters: Int
        /// An idle connection unused for this long is closed (while more than `minimumConnections` are open).
        /// `nil` disables. Default `60 s`.
        public var idleTimeout: Duration?
        /// An idle connection without traffic for this long is checked with `PING`; a failed PING closes it.
        /// `nil` disables. Default `30 s`.
        public var keepAliveInterval: Duration?
        /// Passed to `RedisConnection.connect`. Default `1 s`.
        public var connectTimeout: Duration
        /// Passed to `RedisConnection.connect`; a command slower than this fails with `.commandTimeout` and the
        /// connection is replaced. Default `2 s`.
        public var commandTimeout: Duration
        /// Reconnect backoff after failed connection attempts. Default: 100 ms × 1.25ⁿ, capped at 1 s, ±10 % jitter.
        public var backoff: Backoff
        /// Circuit breaker while Redis is unreachable. Default: opens after 3 consecutive connect failures.
        public var circuitBreaker: CircuitBreaker
        /// A lease held longer than this logs a warning with the lease's age (once per lease). `nil` disables.
        /// Default `10 s`.
        public var leakDetectionThreshold: Duration?
        /// Period of the single housekeeping timer that expires overdue waiters; also the granularity of every other
        /// timer. Default `10 ms`.
        public var tickInterval: Duration
        /// Idle timeout, keep-alive and leak checks run at most this often. Default `100 ms`.
        public var housekeepingInterval: Duration
        /// How often the swift-metrics gauges are published. Default `1 s`.
        public var metricsPublishInterval: Duration
        /// Record `db.client.connection.wait_time` / `use_time` per lease in swift-metrics (one timer call each per
        /// lease). The `PoolMetrics` histograms are always kept. Default `true`.
        public var recordsLeaseTimers: Bool
        /// Value of the `pool.name` dimension of the swift-metrics metrics. Default `"redis"`.
        public var poolName: String
        /// How long graceful shutdown (ServiceLifecycle, or `shutdown()`) waits for leases to come back before closing
        /// their connections. Default `5 s`.
        public var shutdownGracePeriod: Duration
        /// How many times a command the caller marks idempotent (``RedisConnectionPool/command(_:idempotent:)``) is
        /// retried on another connection when its connection closed before the reply (`.connectionClosed`: `CLIENT
        /// KILL`, a reset, a Redis restart). Never after a command timeout, never for commands not marked idempotent.
        /// Default `3`: after `CLIENT KILL TYPE normal` every idle connection is dead, and while the event loops are busy
        /// a retry may still pick one whose close the pool has not seen yet (with `connectionLossRetryDelay`, a read
        /// waits at most 5 + 10 + 20 ms in pauses).
        public var connectionLossRetries: Int
        /// Pause before the first connection-loss retry; each further retry waits twice as long as the previous one.
        /// Default `5 ms`: `CLIENT KILL TYPE normal` or a reset closes many connections at once, and their event loops
        /// need a moment to report those closes to the pool; a retry without the pause tends to lease another
        /// connection that is already dead but not yet known to be. ConnectionKill (6 kills in 30 s, 150,000 requests)
        /// failed 116 requests (96 of them reads) without the pause and 26 (17 reads) with it, one run each.
        public var connectionLossRetryDelay: Duration
        /// `false` closes a connection when its lease ends, so every lease opens a new one: the
        /// connection-per-request setup that comparisons measure the pool against. Default `true`.
        public var reusesConnections: Bool
        /// Auto-pipelining: at most this many commands sent through the future-returning
        /// ``RedisConnectionPool/command(_:idempotent:)`` on one event loop during one loop tick share one lease and go
        /// out in one write, flushed when the tick's I/O has been handled. Their replies come back in one read; the lease
        /// ends with the last reply. `1` gives every command a lease of its own. Ignored without `reusesConnections`.
        /// Default `32`.
        public var autoPipelineLimit: Int

        /// Reconnect backoff: `initial × multiplierⁿ⁻¹`, capped at `maximum`, then scaled by a random factor in
        /// `1 ± jitter`.
        public struct Backoff: Sendable, Hashable {
            /// First delay. Default `100 ms`.
            public var initial: Duration
            /// Growth factor per consecutive failure. Default `1.25`.
            public var multiplier: Double
            /// Cap before jitter. Default `1 s` (keeps recovery after a Redis restart well under 2 s).
            public var maximum: Duration
            /// Relative jitter, 0...1. Default `0.1` (±10 %).
            public var jitter: Double

            public init(
                initial: Duration = .milliseconds(100),
                multiplier: Double = 1.25,
                maximum: Duration = .seconds(1),
                jitter: Double = 0.1
            ) {
                self.initial = initial
                self.multiplier = multiplier
                self.maximum = maximum
                self.jitter = jitter
            }
        }

        /// While open, leases that find no idle connection fail at once with
        /// ``RedisPoolError/Code/redisUnavailable`` and a single probe connection keeps retrying with backoff.
        public struct CircuitBreaker: Sendable, Hashable {
            /// Consecutive failed connection attempts that open the circuit. Default `3`.
            public var failureThreshold: Int

            public init(failureThreshold: Int = 3) {
                self.failureThreshold = failureThreshold
            }
        }

        public init(
            maximumConnections: Int = 160,
            minimumConnections: Int = 8,
            acquireTimeout: Duration = .seconds(1),
            maximumWaiters: Int = 4096,
            idleTimeout: Duration? = .seconds(60),
            keepAliveInterval: Duration? = .seconds(30),
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(2),
            backoff: Backoff = .init(),
            circuitBreaker: CircuitBreaker = .init(),
            leakDetectionThreshold: Duration? = .seconds(10),
            tickInterval: Duration = .milliseconds(10),
            housekeepingInterval: Duration = .milliseconds(100),
            metricsPublishInterval: Duration = .seconds(1),
            recordsLeaseTimers: Bool = true,
            poolName: String = "redis",
            shutdownGracePeriod: Duration = .seconds(5),
            connectionLossRetries: Int = 3,
            connectionLossRetryDelay: Duration = .milliseconds(5),
            reusesConnections: Bool = true,
            autoPipelineLimit: Int = 32
        ) {
            self.maximumConnections = max(1, maximumConnections)
            self.minimumConnections = min(max(0, minimumConnections), self.maximumConnections)
            self.acquireTimeout = acquireTimeout
            self.maximumWaiters = max(0, maximumWaiters)
            self.idleTimeout = idleTimeout
            self.keepAliveInterval = keepAliveInterval
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.backoff = backoff
            self.circuitBreaker = circuitBreaker
            self.leakDetectionThreshold = leakDetectionThreshold
            self.tickInterval = tickInterval
            self.housekeepingInterval = housekeepingInterval
            self.metricsPublishInterval = metricsPublishInterval
            self.recordsLeaseTimers = recordsLeaseTimers
            self.poolName = poolName
            self.shutdownGracePeriod = shutdownGracePeriod
            self.connectionLossRetries = max(0, connectionLossRetries)
            self.connectionLossRetryDelay = max(.zero, connectionLossRetryDelay)
            self.reusesConnections = reusesConnections
            self.autoPipelineLimit = max(1, autoPipelineLimit)
        }
    }
}
