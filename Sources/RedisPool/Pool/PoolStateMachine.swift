import NIOCore

/// The pool's brain: a pure value type with no I/O, no locks and no clock. Every event gets the current time as a
/// `NIODeadline` and returns the side effects to perform (connect, close, ping, resume a waiter, log). The runner
/// (``RedisConnectionPool``) keeps it behind one lock and executes those actions.
///
/// Its parts: ``PoolState`` (lifecycle and connect health), ``PoolConnectionSlots`` (connections and their counts),
/// ``PoolWaiterQueue`` (queued lease requests) and ``PoolStatistics`` (counters and histograms). Timers:
/// ``tick(now:)`` (PoolStateMachine+Housekeeping.swift); shutdown: PoolStateMachine+Shutdown.swift.
///
/// `Connection` and `Waiter` are opaque payloads (a `RedisConnection` and a continuation in production; plain
/// values in tests). With both `Equatable`, every decision and ``Actions`` is `Equatable`.
package struct PoolStateMachine<Connection, Waiter> {
    // MARK: Settings (nanoseconds)

    let maximumConnections: Int
    let minimumConnections: Int
    let maximumWaiters: Int
    let acquireTimeout: Int64
    let idleTimeout: Int64?
    let keepAliveInterval: Int64?
    let leakThreshold: Int64?
    let housekeepingInterval: Int64
    let backoffInitial: Double
    let backoffMultiplier: Double
    let backoffMaximum: Double
    let backoffJitter: Double
    let failureThreshold: Int
    let reusesConnections: Bool

    // MARK: State

    package internal(set) var state: PoolState = .running
    package internal(set) var slots = PoolConnectionSlots<Connection>()
    package internal(set) var waiters = PoolWaiterQueue<Waiter>()
    var nextWaiterID: PoolWaiterID = 0
    var nextHousekeeping: NIODeadline = .uptimeNanoseconds(0)
    package var statistics = PoolStatistics()

    package init(configuration: RedisConnectionPool.Configuration) {
        self.maximumConnections = configuration.maximumConnections
        self.minimumConnections = configuration.minimumConnections
        self.maximumWaiters = configuration.maximumWaiters
        self.acquireTimeout = configuration.acquireTimeout.nanosecondsClamped
        self.idleTimeout = configuration.idleTimeout?.nanosecondsClamped
        self.keepAliveInterval = configuration.keepAliveInterval?.nanosecondsClamped
        self.leakThreshold = configuration.leakDetectionThreshold?.nanosecondsClamped
        self.housekeepingInterval = configuration.housekeepingInterval.nanosecondsClamped
        self.backoffInitial = Double(configuration.backoff.initial.nanosecondsClamped)
        self.backoffMultiplier = Swift.max(1, configuration.backoff.multiplier)
        self.backoffMaximum = Double(configuration.backoff.maximum.nanosecondsClamped)
        self.backoffJitter = Swift.min(Swift.max(0, configuration.backoff.jitter), 1)
        self.failureThreshold = Swift.max(1, configuration.circuitBreaker.failureThreshold)
        self.reusesConnections = configuration.reusesConnections
    }

    // MARK: Derived

    package var idleCount: Int { slots.counts.idle }
    package var inUseCount: Int { slots.counts.leased }
    package var waiterCount: Int { waiters.count }
    package var totalConnections: Int { slots.counts.total }
    package var connecting: Int { slots.counts.connecting }
    package var isShutDown: Bool { if case .shutDown = state { true } else { false } }
    package var isRunning: Bool { state.isRunning }
    package var circuitOpen: Bool { state.isCircuitOpen }

    // MARK: Lease

    /// Hot path: pop an idle connection or tell the caller to wait.
    @inline(__always)
    package mutating func lease(now: NIODeadline) -> LeaseDecision {
        if let (id, connection) = slots.leaseIdle(now: now) {
            return .leased(self.leased(id, connection: connection, now: now, waitNanoseconds: 0))
        }
        if let error = self.refusal() {
            return .failed(error)
        }
        let id = nextWaiterID
        nextWaiterID &+= 1
        return .mustWait(id)
    }

    /// Second step of a lease that must wait: re-checks (the state may have changed since ``lease(now:)``), then
    /// queues the waiter and starts connections if the pool may grow.
    package mutating func enqueue(
        _ id: PoolWaiterID,
        waiter: Waiter,
        enqueuedAt: NIODeadline,
        now: NIODeadline
    ) -> EnqueueDecision {
        if let (connectionID, connection) = slots.leaseIdle(now: now) {
            let waited = now.nanoseconds(since: enqueuedAt)
            return .leased(self.leased(connectionID, connection: connection, now: now, waitNanoseconds: waited))
        }
        if let error = self.refusal() {
            return .failed(error)
        }
        let deadline = enqueuedAt + .nanoseconds(acquireTimeout)
        waiters.enqueue(id, .init(waiter: waiter, enqueuedAt: enqueuedAt, deadline: deadline))
        var actions = Actions()
        self.createConnectionsIfNeeded(now: now, into: &actions)
        return .enqueued(actions)
    }

    /// Removes a waiting request (task cancelled). Returns its waiter to resume with a cancellation error, or nil if
    /// it was already served / failed / never queued.
    package mutating func cancelWaiter(_ id: PoolWaiterID) -> Waiter? {
        waiters.cancel(id)
    }

    private mutating func refusal() -> RedisPoolError? {
        switch state {
        case .shuttingDown, .shutDown:
            return .poolShutdown
        case .circuitOpen:
            statistics.unavailableRejections += 1
            return .redisUnavailable
        case .running, .connectionCreationFailing:
            break
        }
        if waiters.count >= maximumWaiters {
            statistics.waitersRejected += 1
            return .tooManyWaiters
        }
        return nil
    }

    /// Statistics of a lease whose slot is already `leased`.
    @inline(__always)
    private mutating func leased(
        _ id: PoolConnectionID, connection: Connection, now: NIODeadline, waitNanoseconds: Int64
    ) -> Lease {
        statistics.leases += 1
        statistics.recordAcquireWait(nanoseconds: waitNanoseconds)
        return Lease(id: id, connection: connection, leasedAt: now)
    }

    /// Gives connection `id` (not idle) to the oldest waiter, or parks it idle.
    private mutating func serveOrPark(
        _ id: PoolConnectionID,
        connection: Connection,
        idleSince: NIODeadline,
        now: NIODeadline
    ) -> (Waiter, Lease)? {
        if let entry = waiters.popFirst() {
            slots.transition(id, to: .leased(since: now, leakReported: false), now: now)
            let waited = now.nanoseconds(since: entry.enqueuedAt)
            return (entry.waiter, self.leased(id, connection: connection, now: now, waitNanoseconds: waited))
        }
        slots.transition(id, to: .idle(since: idleSince, lastActivity: now), now: now)
        return nil
    }

    // MARK: Release

    /// A lease came back after carrying `roundTrips` commands or pipelines (several when the runner batched one
    /// event-loop tick's commands on it). `connectionClosed`: the connection is known to be closed (e.g. after a
    /// command timeout). Without `reusesConnections` the connection is closed; its close opens a new one for waiters.
    @inline(__always)
    package mutating func release(
        _ id: PoolConnectionID,
        leasedAt: NIODeadline,
        now: NIODeadline,
        connectionClosed: Bool = false,
        roundTrips: Int = 1
    ) -> ReleaseAction {
        statistics.roundTrips += roundTrips
        statistics.recordLeaseHold(nanoseconds: now.nanoseconds(since: leasedAt))
        guard let slot = slots[id], case .leased = slot.state, let connection = slot.connection else {
            // Closed and removed while leased: nothing to give back.
            return .none
        }
        if connectionClosed || !state.isRunning || !reusesConnections {
            slots.transition(id, to: .closing, now: now)
            return .close(connection)
        }
        if let (waiter, lease) = serveOrPark(id, connection: connection, idleSince: now, now: now) {
            return .handOff(waiter, lease)
        }
        return .none
    }

    // MARK: Connection events

    /// Prewarm: open connections up to `minimumConnections`.
    package mutating func start(now: NIODeadline) -> Actions {
        var actions = Actions()
        createConnectionsIfNeeded(now: now, into: &actions)
        return actions
    }

    package mutating func connectSucceeded(_ id: PoolConnectionID, connection: Connection, now: NIODeadline) -> Actions {
        var actions = Actions()
        guard slots.setConnection(connection, of: id) else {
            actions.close.append(connection)
            return actions
        }
        statistics.connectionsCreated += 1
        switch state {
        case .connectionCreationFailing:
            state = .running
        case .circuitOpen:
            state = .running
            actions.events.append(.circuitClosed)
        case .running, .shuttingDown, .shutDown:
            break
        }
        guard state.isRunning else {
            slots.transition(id, to: .closing, now: now)
            actions.close.append(connection)
            return actions
        }
        if let (waiter, lease) = serveOrPark(id, connection: connection, idleSince: now, now: now) {
            actions.resume.append(Resume(waiter: waiter, result: .success(lease)))
        }
        createConnectionsIfNeeded(now: now, into: &actions)
        return actions
    }

    /// A connection attempt failed: backoff before the next one; at `failureThreshold` consecutive failures the
    /// circuit opens and every waiter fails with `redisUnavailable`.
    package mutating func connectFailed(_ id: PoolConnectionID, now: NIODeadline, randomUnit: Double) -> Actions {
        var actions = Actions()
        guard case .connecting? = slots[id]?.state else { return actions }
        _ = slots.remove(id, now: now)
        statistics.connectionFailures += 1
        switch state {
        case .running, .connectionCreationFailing, .circuitOpen:
            let failures = state.consecutiveFailures + 1
            let delay = backoffNanoseconds(failures: failures, randomUnit: randomUnit)
            let next = now + .nanoseconds(delay)
            actions.events.append(.connectFailed(consecutiveFailures: failures, retryInNanoseconds: delay))
            if state.isCircuitOpen {
                state = .circuitOpen(consecutiveFailures: failures, nextAttempt: next)
            } else if failures >= failureThreshold {
                state = .circuitOpen(consecutiveFailures: failures, nextAttempt: next)
                actions.events.append(.circuitOpened(consecutiveFailures: failures))
                failAllWaiters(.redisUnavailable, counter: \.unavailableRejections, into: &actions)
            } else {
                state = .connectionCreationFailing(consecutiveFailures: failures, nextAttempt: next)
            }
        case .shuttingDown, .shutDown:
            break  // no retry follows
        }
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// The connection's channel closed (server gone, timeout, our own close()).
    package mutating func connectionClosed(_ id: PoolConnectionID, now: NIODeadline) -> Actions {
        var actions = Actions()
        guard slots.remove(id, now: now) != nil else { return actions }
        statistics.connectionsClosed += 1
        createConnectionsIfNeeded(now: now, into: &actions)
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// A keep-alive PING finished.
    package mutating func pingCompleted(_ id: PoolConnectionID, success: Bool, now: NIODeadline) -> Actions {
        var actions = Actions()
        guard let slot = slots[id], case .pinging(let idleSince) = slot.state, let connection = slot.connection else {
            return actions
        }
        if !success || !state.isRunning {
            slots.transition(id, to: .closing, now: now)
            actions.close.append(connection)
            return actions
        }
        if let (waiter, lease) = serveOrPark(id, connection: connection, idleSince: idleSince, now: now) {
            actions.resume.append(Resume(waiter: waiter, result: .success(lease)))
        }
        return actions
    }

    /// Opens connections for queued waiters and for `minimumConnections`, within `maximumConnections`.
    /// After a failure only one attempt (the probe) runs at a time, once the backoff has elapsed.
    mutating func createConnectionsIfNeeded(now: NIODeadline, into actions: inout Actions) {
        let counts = slots.counts
        var wanted = Swift.max(waiters.count - counts.connecting, minimumConnections - counts.alive, 0)
        switch state {
        case .running:
            break
        case .connectionCreationFailing(_, let next), .circuitOpen(_, let next):
            if counts.connecting > 0 || now < next { return }
            // While the circuit is open the probe runs even without demand.
            wanted = (wanted > 0 || state.isCircuitOpen) ? 1 : 0
        case .shuttingDown, .shutDown:
            return
        }
        wanted = Swift.min(wanted, maximumConnections - counts.total)
        guard wanted > 0 else { return }
        for _ in 0..<wanted {
            actions.connect.append(slots.addConnecting(now: now))
        }
    }

    mutating func failAllWaiters(
        _ error: RedisPoolError,
        counter: WritableKeyPath<PoolStatistics, Int>?,
        into actions: inout Actions
    ) {
        while let entry = waiters.popFirst() {
            if let counter { statistics[keyPath: counter] += 1 }
            actions.resume.append(Resume(waiter: entry.waiter, result: .failure(error)))
        }
    }

    // MARK: Metrics

    /// A snapshot at `now` (the time only matters for `utilization`, a mean over the last whole second).
    package func metrics(now: NIODeadline, commandErrors: Int = 0, commandTimeouts: Int = 0) -> PoolMetrics {
        let counts = slots.counts
        return PoolMetrics(
            maximumConnections: maximumConnections,
            totalConnections: counts.total,
            inUse: counts.leased,
            idle: counts.idle,
            waiters: waiters.count,
            utilization: slots.leasedLevel.mean(at: now) / Double(maximumConnections),
            peakInUse: slots.peakLeased,
            peakWaiters: waiters.peak,
            leases: statistics.leases,
            roundTrips: statistics.roundTrips,
            acquireTimeouts: statistics.acquireTimeouts,
            waitersRejected: statistics.waitersRejected,
            unavailableRejections: statistics.unavailableRejections,
            connectionsCreated: statistics.connectionsCreated,
            connectionsClosed: statistics.connectionsClosed,
            connectionFailures: statistics.connectionFailures,
            commandErrors: commandErrors,
            commandTimeouts: commandTimeouts,
            circuitOpen: state.isCircuitOpen,
            acquireWaitMs: PoolStatistics.percentiles(statistics.acquireWait),
            leaseHoldMs: PoolStatistics.percentiles(statistics.leaseHold)
        )
    }
}

extension PoolStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
