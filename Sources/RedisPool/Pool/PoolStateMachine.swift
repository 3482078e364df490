import DequeModule
import NIOCore

/// Identifies a connection slot of the pool (assigned by the pool before the connection exists).
package typealias PoolConnectionID = Int
/// Identifies a queued lease request.
package typealias PoolWaiterID = Int

/// A leased connection: its slot id, the connection and when it was leased.
package struct PoolLease<Connection> {
    package var id: PoolConnectionID
    package var connection: Connection
    package var leasedAt: NIODeadline
}

extension PoolLease: Sendable where Connection: Sendable {}

/// The pool's brain: a pure value type with no I/O, no locks and no clock. Every event gets the current time as a
/// `NIODeadline` and returns the side effects to perform (connect, close, ping, resume a waiter, log). The runner
/// (``RedisConnectionPool``) keeps it behind one lock and executes those actions.
///
/// `Connection` and `Waiter` are opaque payloads (a `RedisConnection` and a continuation in production; plain
/// values in tests).
package struct PoolStateMachine<Connection, Waiter> {
    // MARK: Types

    package typealias Lease = PoolLease<Connection>

    package enum LeaseDecision {
        /// An idle connection was leased.
        case leased(Lease)
        /// No idle connection: call ``enqueue(_:waiter:enqueuedAt:now:)`` with this id.
        case mustWait(PoolWaiterID)
        case failed(RedisPoolError)
    }

    package enum EnqueueDecision {
        case leased(Lease)
        case enqueued(Actions)
        case failed(RedisPoolError)
    }

    package enum ReleaseAction {
        /// The connection was parked idle.
        case none
        /// Give the connection to this waiter.
        case handOff(Waiter, Lease)
        /// Close this connection (it is closed already, or the pool is shutting down).
        case close(Connection)
    }

    package enum Event: Hashable, Sendable {
        case circuitOpened(consecutiveFailures: Int)
        case circuitClosed
        case connectFailed(consecutiveFailures: Int, retryInNanoseconds: Int64)
        case leakSuspected(connection: PoolConnectionID, leaseAgeNanoseconds: Int64)
        case idleTimeout(connection: PoolConnectionID)
        case shutdownForcedClose(connections: Int)
    }

    /// Side effects for the runner, in this order: resume waiters, close, ping, connect, log.
    package struct Actions {
        package var connect: [PoolConnectionID] = []
        package var close: [Connection] = []
        package var ping: [(PoolConnectionID, Connection)] = []
        package var resume: [(Waiter, Result<Lease, RedisPoolError>)] = []
        package var events: [Event] = []
        package var shutdownCompleted = false

        package init() {}

        package var isEmpty: Bool {
            connect.isEmpty && close.isEmpty && ping.isEmpty && resume.isEmpty && events.isEmpty && !shutdownCompleted
        }
    }

    enum SlotState {
        case connecting
        case idle(since: NIODeadline, lastActivity: NIODeadline)
        case leased(since: NIODeadline, leakReported: Bool)
        case pinging(idleSince: NIODeadline)
        case closing
    }

    struct Slot {
        var state: SlotState
        var connection: Connection?
    }

    struct WaiterEntry {
        var waiter: Waiter
        var enqueuedAt: NIODeadline
        var deadline: NIODeadline
    }

    enum Lifecycle {
        case running
        case shuttingDown(deadline: NIODeadline)
        case shutDown
    }

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

    var slots: [PoolConnectionID: Slot] = [:]
    /// Idle connections, most recently parked last (leases pop from the end: LIFO keeps hot connections hot and
    /// lets the surplus reach the idle timeout).
    var idleStack: [PoolConnectionID] = []
    var waiters: [PoolWaiterID: WaiterEntry] = [:]
    /// FIFO order of `waiters`; ids of cancelled waiters stay here until they reach the front.
    var waiterOrder: Deque<PoolWaiterID> = []

    var connectingCount = 0
    var leasedCount = 0
    /// Time-weighted `leasedCount` over one-second windows: the source of `PoolMetrics.utilization`.
    var leasedTime = TimeWeightedLevel()
    var pingingCount = 0
    var closingCount = 0

    var nextConnectionID: PoolConnectionID = 0
    var nextWaiterID: PoolWaiterID = 0

    var consecutiveFailures = 0
    var nextConnectAttempt: NIODeadline? = nil
    package private(set) var circuitOpen = false
    var lifecycle: Lifecycle = .running
    var nextHousekeeping: NIODeadline = .uptimeNanoseconds(0)

    package var statistics = PoolStatistics()

    package init(configuration: RedisConnectionPool.Configuration) {
        self.maximumConnections = configuration.maximumConnections
        self.minimumConnections = configuration.minimumIdleConnections
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

    package var idleCount: Int { idleStack.count }
    package var inUseCount: Int { leasedCount }
    package var waiterCount: Int { waiters.count }
    package var totalConnections: Int { slots.count }
    package var connecting: Int { connectingCount }
    package var isShutDown: Bool { if case .shutDown = lifecycle { true } else { false } }
    package var isRunning: Bool { if case .running = lifecycle { true } else { false } }

    /// Backoff before the next connection attempt after `failures` consecutive failures;
    /// `randomUnit` in 0..<1 picks the jitter.
    package func backoffNanoseconds(failures: Int, randomUnit: Double) -> Int64 {
        let exponent = Double(Swift.max(0, failures - 1))
        let raw = Swift.min(backoffInitial * _pow(backoffMultiplier, exponent), backoffMaximum)
        let factor = 1 + backoffJitter * (2 * Swift.min(Swift.max(randomUnit, 0), 1) - 1)
        return Int64(raw * factor)
    }

    // MARK: Lease

    /// Hot path: pop an idle connection or tell the caller to wait.
    @inline(__always)
    package mutating func lease(now: NIODeadline) -> LeaseDecision {
        if let id = idleStack.popLast() {
            return .leased(self.lease(idleID: id, now: now, waitNanoseconds: 0))
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
        if let connectionID = idleStack.popLast() {
            return .leased(self.lease(idleID: connectionID, now: now, waitNanoseconds: now.nanoseconds(since: enqueuedAt)))
        }
        if let error = self.refusal() {
            return .failed(error)
        }
        waiters[id] = WaiterEntry(waiter: waiter, enqueuedAt: enqueuedAt, deadline: enqueuedAt + .nanoseconds(acquireTimeout))
        waiterOrder.append(id)
        if waiters.count > statistics.peakWaiters { statistics.peakWaiters = waiters.count }
        var actions = Actions()
        self.createConnectionsIfNeeded(now: now, into: &actions)
        return .enqueued(actions)
    }

    /// Removes a waiting request (task cancelled). Returns its waiter to resume with a cancellation error, or nil if
    /// it was already served / failed / never queued.
    package mutating func cancelWaiter(_ id: PoolWaiterID) -> Waiter? {
        waiters.removeValue(forKey: id)?.waiter
    }

    private mutating func refusal() -> RedisPoolError? {
        guard case .running = lifecycle else { return .poolShutdown }
        if circuitOpen {
            statistics.unavailableRejections += 1
            return .redisUnavailable
        }
        if waiters.count >= maximumWaiters {
            statistics.waitersRejected += 1
            return .tooManyWaiters
        }
        return nil
    }

    @inline(__always)
    private mutating func lease(idleID id: PoolConnectionID, now: NIODeadline, waitNanoseconds: Int64) -> Lease {
        // The slot of an id on the idle stack always exists and holds a connection.
        slots[id]!.state = .leased(since: now, leakReported: false)
        return self.leaseBookkeeping(id: id, connection: slots[id]!.connection!, now: now, waitNanoseconds: waitNanoseconds)
    }

    @inline(__always)
    private mutating func leaseBookkeeping(id: PoolConnectionID, connection: Connection, now: NIODeadline, waitNanoseconds: Int64) -> Lease {
        leasedCount += 1
        leasedTime.set(leasedCount, at: now)
        if leasedCount > statistics.peakInUse { statistics.peakInUse = leasedCount }
        statistics.leases += 1
        statistics.recordAcquireWait(nanoseconds: waitNanoseconds)
        return Lease(id: id, connection: connection, leasedAt: now)
    }

    /// Pops the oldest live waiter.
    private mutating func popWaiter() -> WaiterEntry? {
        while let id = waiterOrder.popFirst() {
            if let entry = waiters.removeValue(forKey: id) { return entry }
        }
        return nil
    }

    /// Gives connection `id` (already in a non-idle state) to the oldest waiter, or parks it idle.
    private mutating func serveOrPark(
        id: PoolConnectionID,
        connection: Connection,
        idleSince: NIODeadline,
        now: NIODeadline
    ) -> (Waiter, Lease)? {
        if let entry = popWaiter() {
            slots[id]!.state = .leased(since: now, leakReported: false)
            let lease = leaseBookkeeping(id: id, connection: connection, now: now, waitNanoseconds: now.nanoseconds(since: entry.enqueuedAt))
            return (entry.waiter, lease)
        }
        slots[id]!.state = .idle(since: idleSince, lastActivity: now)
        idleStack.append(id)
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
        leasedCount -= 1
        leasedTime.set(leasedCount, at: now)
        if connectionClosed || !isRunning || !reusesConnections {
            slots[id]!.state = .closing
            closingCount += 1
            return .close(connection)
        }
        if let (waiter, lease) = serveOrPark(id: id, connection: connection, idleSince: now, now: now) {
            return .handOff(waiter, lease)
        }
        return .none
    }

    // MARK: Connection events

    /// Prewarm: open connections up to `minimumIdleConnections`.
    package mutating func start(now: NIODeadline) -> Actions {
        var actions = Actions()
        createConnectionsIfNeeded(now: now, into: &actions)
        return actions
    }

    package mutating func connectSucceeded(_ id: PoolConnectionID, connection: Connection, now: NIODeadline) -> Actions {
        var actions = Actions()
        guard let slot = slots[id], case .connecting = slot.state else {
            actions.close.append(connection)
            return actions
        }
        connectingCount -= 1
        statistics.connectionsCreated += 1
        consecutiveFailures = 0
        nextConnectAttempt = nil
        if circuitOpen {
            circuitOpen = false
            actions.events.append(.circuitClosed)
        }
        slots[id]!.connection = connection
        guard isRunning else {
            slots[id]!.state = .closing
            closingCount += 1
            actions.close.append(connection)
            return actions
        }
        if let (waiter, lease) = serveOrPark(id: id, connection: connection, idleSince: now, now: now) {
            actions.resume.append((waiter, .success(lease)))
        }
        createConnectionsIfNeeded(now: now, into: &actions)
        return actions
    }

    package mutating func connectFailed(_ id: PoolConnectionID, now: NIODeadline, randomUnit: Double) -> Actions {
        var actions = Actions()
        guard let slot = slots.removeValue(forKey: id), case .connecting = slot.state else { return actions }
        connectingCount -= 1
        statistics.connectionFailures += 1
        consecutiveFailures += 1
        let delay = backoffNanoseconds(failures: consecutiveFailures, randomUnit: randomUnit)
        nextConnectAttempt = now + .nanoseconds(delay)
        actions.events.append(.connectFailed(consecutiveFailures: consecutiveFailures, retryInNanoseconds: delay))
        if isRunning && !circuitOpen && consecutiveFailures >= failureThreshold {
            circuitOpen = true
            actions.events.append(.circuitOpened(consecutiveFailures: consecutiveFailures))
            failAllWaiters(.redisUnavailable, counter: \.unavailableRejections, into: &actions)
        }
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// The connection's channel closed (server gone, timeout, our own close()).
    package mutating func connectionClosed(_ id: PoolConnectionID, now: NIODeadline) -> Actions {
        var actions = Actions()
        guard let slot = slots.removeValue(forKey: id) else { return actions }
        statistics.connectionsClosed += 1
        switch slot.state {
        case .connecting:
            connectingCount -= 1
        case .idle:
            if let index = idleStack.lastIndex(of: id) { idleStack.remove(at: index) }
        case .leased:
            leasedCount -= 1
            leasedTime.set(leasedCount, at: now)
        case .pinging:
            pingingCount -= 1
        case .closing:
            closingCount -= 1
        }
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
        pingingCount -= 1
        if !success || !isRunning {
            slots[id]!.state = .closing
            closingCount += 1
            actions.close.append(connection)
            return actions
        }
        if let (waiter, lease) = serveOrPark(id: id, connection: connection, idleSince: idleSince, now: now) {
            actions.resume.append((waiter, .success(lease)))
        }
        return actions
    }

    // MARK: Timers

    /// The periodic tick: expires overdue waiters; every `housekeepingInterval` also closes idle connections past
    /// `idleTimeout`, pings idle ones past `keepAliveInterval`, reports suspected leaks; retries connecting after
    /// backoff; forces the shutdown deadline.
    package mutating func tick(now: NIODeadline) -> Actions {
        var actions = Actions()
        expireWaiters(now: now, into: &actions)
        switch lifecycle {
        case .shutDown:
            return actions
        case .shuttingDown(let deadline):
            if now >= deadline { forceCloseForShutdown(now: now, into: &actions) }
            finishShutdownIfDone(into: &actions)
            return actions
        case .running:
            break
        }
        if now >= nextHousekeeping {
            nextHousekeeping = now + .nanoseconds(housekeepingInterval)
            closeIdleTimedOut(now: now, into: &actions)
            pingIdle(now: now, into: &actions)
            reportLeaks(now: now, into: &actions)
        }
        createConnectionsIfNeeded(now: now, into: &actions)
        return actions
    }

    private mutating func expireWaiters(now: NIODeadline, into actions: inout Actions) {
        // Deadlines are enqueue time + a fixed timeout, so the queue is ordered by deadline.
        while let id = waiterOrder.first {
            guard let entry = waiters[id] else {
                waiterOrder.removeFirst()
                continue
            }
            guard entry.deadline <= now else { break }
            waiterOrder.removeFirst()
            waiters.removeValue(forKey: id)
            statistics.acquireTimeouts += 1
            actions.resume.append((entry.waiter, .failure(.acquireTimeout)))
        }
    }

    private mutating func closeIdleTimedOut(now: NIODeadline, into actions: inout Actions) {
        guard let idleTimeout else { return }
        var index = 0
        while index < idleStack.count, slots.count - closingCount > minimumConnections {
            let id = idleStack[index]
            if case .idle(let since, _) = slots[id]!.state, now.nanoseconds(since: since) >= idleTimeout {
                idleStack.remove(at: index)
                slots[id]!.state = .closing
                closingCount += 1
                actions.close.append(slots[id]!.connection!)
                actions.events.append(.idleTimeout(connection: id))
            } else {
                index += 1
            }
        }
    }

    private mutating func pingIdle(now: NIODeadline, into actions: inout Actions) {
        guard let keepAliveInterval else { return }
        var index = 0
        while index < idleStack.count {
            let id = idleStack[index]
            if case .idle(let since, let lastActivity) = slots[id]!.state, now.nanoseconds(since: lastActivity) >= keepAliveInterval {
                idleStack.remove(at: index)
                slots[id]!.state = .pinging(idleSince: since)
                pingingCount += 1
                actions.ping.append((id, slots[id]!.connection!))
            } else {
                index += 1
            }
        }
    }

    private mutating func reportLeaks(now: NIODeadline, into actions: inout Actions) {
        guard let leakThreshold, leasedCount > 0 else { return }
        for (id, slot) in slots {
            if case .leased(let since, false) = slot.state {
                let age = now.nanoseconds(since: since)
                if age >= leakThreshold {
                    slots[id]!.state = .leased(since: since, leakReported: true)
                    actions.events.append(.leakSuspected(connection: id, leaseAgeNanoseconds: age))
                }
            }
        }
    }

    /// Opens connections for queued waiters and for `minimumIdleConnections`, within `maximumConnections`.
    /// After a failure only one attempt (the probe) runs at a time, once the backoff has elapsed.
    private mutating func createConnectionsIfNeeded(now: NIODeadline, into actions: inout Actions) {
        guard isRunning else { return }
        let alive = slots.count - closingCount
        let forWaiters = waiters.count - connectingCount
        let forMinimum = minimumConnections - alive
        var wanted = Swift.max(forWaiters, forMinimum, 0)
        if consecutiveFailures > 0 {
            if connectingCount > 0 { return }
            if let next = nextConnectAttempt, now < next { return }
            // While the circuit is open the probe runs even without demand.
            wanted = (wanted > 0 || circuitOpen) ? 1 : 0
        }
        wanted = Swift.min(wanted, maximumConnections - slots.count)
        guard wanted > 0 else { return }
        for _ in 0..<wanted {
            let id = nextConnectionID
            nextConnectionID += 1
            slots[id] = Slot(state: .connecting, connection: nil)
            connectingCount += 1
            actions.connect.append(id)
        }
    }

    private mutating func failAllWaiters(
        _ error: RedisPoolError,
        counter: WritableKeyPath<PoolStatistics, Int>?,
        into actions: inout Actions
    ) {
        while let entry = popWaiter() {
            if let counter { statistics[keyPath: counter] += 1 }
            actions.resume.append((entry.waiter, .failure(error)))
        }
        waiterOrder.removeAll()
    }

    // MARK: Shutdown

    /// Stops new leases (they fail with `poolShutdown`), fails queued waiters, closes idle connections; leased ones
    /// are closed when they come back or at `deadline` (checked by ``tick(now:)``).
    package mutating func beginShutdown(now: NIODeadline, deadline: NIODeadline) -> Actions {
        var actions = Actions()
        switch lifecycle {
        case .running:
            lifecycle = .shuttingDown(deadline: deadline)
        case .shuttingDown(let current):
            if deadline < current { lifecycle = .shuttingDown(deadline: deadline) }
        case .shutDown:
            return actions
        }
        failAllWaiters(.poolShutdown, counter: nil, into: &actions)
        for id in idleStack {
            slots[id]!.state = .closing
            closingCount += 1
            actions.close.append(slots[id]!.connection!)
        }
        idleStack.removeAll()
        if now >= deadline { forceCloseForShutdown(now: now, into: &actions) }
        finishShutdownIfDone(into: &actions)
        return actions
    }

    private mutating func forceCloseForShutdown(now: NIODeadline, into actions: inout Actions) {
        var forced = 0
        for (id, slot) in slots {
            if case .leased = slot.state, let connection = slot.connection {
                slots[id]!.state = .closing
                leasedCount -= 1
                leasedTime.set(leasedCount, at: now)
                closingCount += 1
                forced += 1
                actions.close.append(connection)
            }
        }
        if forced > 0 { actions.events.append(.shutdownForcedClose(connections: forced)) }
    }

    private mutating func finishShutdownIfDone(into actions: inout Actions) {
        guard case .shuttingDown = lifecycle, slots.isEmpty else { return }
        lifecycle = .shutDown
        actions.shutdownCompleted = true
    }

    // MARK: Metrics

    /// A snapshot at `now` (the time only matters for `utilization`, a mean over the last whole second).
    package func metrics(now: NIODeadline, commandErrors: Int = 0, commandTimeouts: Int = 0) -> PoolMetrics {
        PoolMetrics(
            maximumConnections: maximumConnections,
            totalConnections: slots.count,
            inUse: leasedCount,
            idle: idleStack.count,
            waiters: waiters.count,
            utilization: leasedTime.mean(at: now) / Double(maximumConnections),
            peakInUse: statistics.peakInUse,
            peakWaiters: statistics.peakWaiters,
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
            circuitOpen: circuitOpen,
            acquireWaitMs: PoolStatistics.percentiles(statistics.acquireWait),
            leaseHoldMs: PoolStatistics.percentiles(statistics.leaseHold)
        )
    }
}

extension NIODeadline {
    @inline(__always)
    func nanoseconds(since earlier: NIODeadline) -> Int64 {
        (self - earlier).nanoseconds
    }
}

extension Duration {
    /// The duration in nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        if seconds >= Int64.max / 1_000_000_000 { return .max }
        if seconds <= Int64.min / 1_000_000_000 { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

@inline(__always)
private func _pow(_ base: Double, _ exponent: Double) -> Double {
    // Integer exponents only (failure counts); avoids importing Foundation/Glibc for pow.
    var result = 1.0
    var remaining = Int(exponent)
    var factor = base
    while remaining > 0 {
        if remaining & 1 == 1 { result *= factor }
        factor *= factor
        remaining >>= 1
    }
    return result.isFinite ? result : .greatestFiniteMagnitude
}

extension PoolStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
extension PoolStateMachine.Slot: Sendable where Connection: Sendable {}
extension PoolStateMachine.SlotState: Sendable {}
extension PoolStateMachine.WaiterEntry: Sendable where Waiter: Sendable {}
extension PoolStateMachine.Lifecycle: Sendable {}
