/// A point-in-time snapshot of a ``RedisConnectionPool`` (what `GET /health/redis` returns as JSON).
/// Counters are cumulative since the pool was created; peaks are all-time; percentiles come from HdrHistograms
/// covering the pool's whole life.
public struct PoolMetrics: Codable, Sendable, Equatable {
    /// Latency percentiles in milliseconds.
    public struct Percentiles: Codable, Sendable, Equatable {
        public var p50: Double
        public var p95: Double
        public var p99: Double
        public var max: Double

        public init(p50: Double = 0, p95: Double = 0, p99: Double = 0, max: Double = 0) {
            self.p50 = p50
            self.p95 = p95
            self.p99 = p99
            self.max = max
        }
    }

    /// `Configuration.maximumConnections`.
    public var maximumConnections: Int
    /// Open connections: connecting + idle + in use + being pinged + closing.
    public var totalConnections: Int
    /// Leased connections.
    public var inUse: Int
    /// Idle connections ready to lease.
    public var idle: Int
    /// Callers waiting for a connection.
    public var waiters: Int
    /// Fraction of the pool's capacity leased during the last whole second, 0...1: the time-weighted mean of
    /// `inUse / maximumConnections` over one-second windows (before the first second has passed, the mean so far).
    /// `inUse` is the instantaneous count; this is the figure thresholds such as `pool.utilization < 50%` gate on,
    /// because one instantaneous read per second samples a random instant, not the load.
    public var utilization: Double
    /// Highest instantaneous `inUse` seen.
    public var peakInUse: Int
    /// Highest `waiters` seen.
    public var peakWaiters: Int
    /// Leases granted.
    public var leases: Int
    /// Commands and pipelines carried by returned leases. Equal to `leases` when every lease carries one; higher when
    /// the commands of one event-loop tick share a lease (``RedisConnectionPool/Configuration/autoPipelineLimit``).
    public var roundTrips: Int
    /// Leases that failed with `acquireTimeout`.
    public var acquireTimeouts: Int
    /// Leases refused because the waiter queue was full.
    public var waitersRejected: Int
    /// Leases failed fast because the circuit breaker was open.
    public var unavailableRejections: Int
    /// Connections established.
    public var connectionsCreated: Int
    /// Connections closed (for any reason).
    public var connectionsClosed: Int
    /// Failed connection attempts.
    public var connectionFailures: Int
    /// Commands that failed with a Redis error reply or a connection error (timeouts excluded).
    public var commandErrors: Int
    /// Commands that timed out (`commandTimeout`).
    public var commandTimeouts: Int
    /// Idempotent commands retried on another connection after theirs closed before the reply.
    public var connectionLossRetries: Int
    /// Whether the circuit breaker is open.
    public var circuitOpen: Bool
    /// Time from asking for a connection to getting it (immediate leases count as 0).
    public var acquireWaitMs: Percentiles
    /// Time a lease was held.
    public var leaseHoldMs: Percentiles

    public init(
        maximumConnections: Int = 0, totalConnections: Int = 0, inUse: Int = 0, idle: Int = 0, waiters: Int = 0,
        utilization: Double = 0, peakInUse: Int = 0, peakWaiters: Int = 0, leases: Int = 0, roundTrips: Int = 0, acquireTimeouts: Int = 0,
        waitersRejected: Int = 0, unavailableRejections: Int = 0, connectionsCreated: Int = 0, connectionsClosed: Int = 0,
        connectionFailures: Int = 0, commandErrors: Int = 0, commandTimeouts: Int = 0, connectionLossRetries: Int = 0,
        circuitOpen: Bool = false,
        acquireWaitMs: Percentiles = .init(), leaseHoldMs: Percentiles = .init()
    ) {
        self.maximumConnections = maximumConnections
        self.totalConnections = totalConnections
        self.inUse = inUse
        self.idle = idle
        self.waiters = waiters
        self.utilization = utilization
        self.peakInUse = peakInUse
        self.peakWaiters = peakWaiters
        self.leases = leases
        self.roundTrips = roundTrips
        self.acquireTimeouts = acquireTimeouts
        self.waitersRejected = waitersRejected
        self.unavailableRejections = unavailableRejections
        self.connectionsCreated = connectionsCreated
        self.connectionsClosed = connectionsClosed
        self.connectionFailures = connectionFailures
        self.commandErrors = commandErrors
        self.commandTimeouts = commandTimeouts
        self.connectionLossRetries = connectionLossRetries
        self.circuitOpen = circuitOpen
        self.acquireWaitMs = acquireWaitMs
        self.leaseHoldMs = leaseHoldMs
    }
}
