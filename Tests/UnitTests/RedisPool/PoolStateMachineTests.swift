import NIOCore
import RedisPool
import Testing

/// Pure state-machine tests: no Redis, no threads, a fake clock (`at(ms)`).
@Suite("Pool state machine")
struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<FakeConnection, Int>

    final class FakeConnection: Equatable, CustomStringConvertible {
        let name: Int
        init(_ name: Int) { self.name = name }
        static func == (lhs: FakeConnection, rhs: FakeConnection) -> Bool { lhs === rhs }
        var description: String { "conn\(name)" }
    }

    static func at(_ milliseconds: Int) -> NIODeadline {
        .uptimeNanoseconds(1_000_000_000 + UInt64(milliseconds) * 1_000_000)
    }

    static func configuration(
        max: Int = 4,
        minConnections: Int = 0,
        acquireTimeout: Duration = .milliseconds(500),
        maximumWaiters: Int = 100,
        idleTimeout: Duration? = nil,
        keepAlive: Duration? = nil,
        leak: Duration? = nil,
        jitter: Double = 0.1,
        failureThreshold: Int = 3
    ) -> RedisConnectionPool.Configuration {
        .init(
            maximumConnections: max,
            minimumConnections: minConnections,
            acquireTimeout: acquireTimeout,
            maximumWaiters: maximumWaiters,
            idleTimeout: idleTimeout,
            keepAliveInterval: keepAlive,
            backoff: .init(initial: .milliseconds(100), multiplier: 1.25, maximum: .seconds(1), jitter: jitter),
            circuitBreaker: .init(failureThreshold: failureThreshold),
            leakDetectionThreshold: leak,
            housekeepingInterval: .milliseconds(100)
        )
    }

    /// Leases or queues waiter `waiter` at `time`; returns the lease if immediate, else the actions of enqueueing.
    static func request(_ machine: inout Machine, waiter: Int, at time: NIODeadline) -> (Machine.Lease?, Machine.Actions?, RedisPoolError?) {
        switch machine.lease(now: time) {
        case .leased(let lease): return (lease, nil, nil)
        case .failed(let error): return (nil, nil, error)
        case .mustWait(let id):
            switch machine.enqueue(id, waiter: waiter, enqueuedAt: time, now: time) {
            case .leased(let lease): return (lease, nil, nil)
            case .failed(let error): return (nil, nil, error)
            case .enqueued(let actions): return (nil, actions, nil)
            }
        }
    }

    /// Connects every id in `ids` successfully; returns (connections, resumed waiters with their lease).
    static func connectAll(_ machine: inout Machine, _ ids: [PoolConnectionID], at time: NIODeadline, start: Int = 0)
        -> (connections: [PoolConnectionID: FakeConnection], served: [(Int, Machine.Lease)], actions: Machine.Actions)
    {
        var connections: [PoolConnectionID: FakeConnection] = [:]
        var served: [(Int, Machine.Lease)] = []
        var all = Machine.Actions()
        for (offset, id) in ids.enumerated() {
            let connection = FakeConnection(start + offset)
            connections[id] = connection
            let actions = machine.connectSucceeded(id, connection: connection, now: time)
            for resume in actions.resume {
                if case .success(let lease) = resume.result { served.append((resume.waiter, lease)) }
            }
            all.connect += actions.connect
            all.close += actions.close
            all.events += actions.events
        }
        return (connections, served, all)
    }

    static func failures(_ actions: Machine.Actions) -> [(Int, RedisPoolError.Code)] {
        actions.resume.compactMap { resume in
            if case .failure(let error) = resume.result { return (resume.waiter, error.code) }
            return nil
        }
    }

    // MARK: Leasing

    @Test func firstLeaseCreatesAConnectionAndServesTheWaiter() {
        var machine = Machine(configuration: Self.configuration())
        let (lease, actions, error) = Self.request(&machine, waiter: 1, at: Self.at(0))
        #expect(lease == nil && error == nil)
        #expect(actions?.connect.count == 1)
        #expect(machine.waiterCount == 1)

        let (_, served, _) = Self.connectAll(&machine, actions!.connect, at: Self.at(5))
        #expect(served.map(\.0) == [1])
        #expect(machine.inUseCount == 1 && machine.waiterCount == 0)

        // Returned connection is parked, and the next lease is immediate with no new connection.
        let back = machine.release(served[0].1.id, leasedAt: served[0].1.leasedAt, now: Self.at(6))
        guard case .none = back else { Issue.record("expected park, got \(back)"); return }
        #expect(machine.idleCount == 1 && machine.inUseCount == 0)
        let (again, more, _) = Self.request(&machine, waiter: 2, at: Self.at(7))
        #expect(again?.connection === served[0].1.connection)
        #expect(more == nil)

        let metrics = machine.metrics(now: Self.at(0))
        #expect(metrics.leases == 2 && metrics.connectionsCreated == 1 && metrics.peakInUse == 1)
        #expect(metrics.acquireWaitMs.max >= 4.9)  // the first waited 5 ms
    }

    @Test func startPrewarmsMinimumConnections() {
        var machine = Machine(configuration: Self.configuration(max: 10, minConnections: 3))
        let actions = machine.start(now: Self.at(0))
        #expect(actions.connect.count == 3)
        _ = Self.connectAll(&machine, actions.connect, at: Self.at(1))
        #expect(machine.idleCount == 3 && machine.totalConnections == 3)
        // No further connections wanted.
        #expect(machine.tick(now: Self.at(200)) == Machine.Actions())
    }

    @Test func neverOpensMoreThanMaximumAndServesWaitersInFIFOOrder() {
        var machine = Machine(configuration: Self.configuration(max: 2))
        var connects: [PoolConnectionID] = []
        for waiter in 1...5 {
            let (_, actions, _) = Self.request(&machine, waiter: waiter, at: Self.at(waiter))
            connects += actions?.connect ?? []
        }
        #expect(connects.count == 2)
        #expect(machine.totalConnections == 2 && machine.waiterCount == 5)
        let (_, served, _) = Self.connectAll(&machine, connects, at: Self.at(10))
        #expect(served.map(\.0) == [1, 2])

        var order: [Int] = []
        var leases = served.map(\.1)
        var now = 20
        while let lease = leases.popLast() {
            now += 1
            if case .handOff(let waiter, let next) = machine.release(lease.id, leasedAt: lease.leasedAt, now: Self.at(now)) {
                order.append(waiter)
                leases.insert(next, at: 0)
            }
        }
        #expect(order == [3, 4, 5])
        #expect(machine.metrics(now: Self.at(0)).peakInUse == 2)
        #expect(machine.metrics(now: Self.at(0)).peakWaiters == 5)
        #expect(machine.inUseCount == 0 && machine.idleCount == 2)
    }

    @Test func maximumWaitersRejectsAtOnce() {
        var machine = Machine(configuration: Self.configuration(max: 1, maximumWaiters: 2))
        _ = Self.request(&machine, waiter: 1, at: Self.at(0))
        _ = Self.request(&machine, waiter: 2, at: Self.at(0))
        let (_, _, error) = Self.request(&machine, waiter: 3, at: Self.at(0))
        #expect(error?.code == .tooManyWaiters)
        #expect(machine.metrics(now: Self.at(0)).waitersRejected == 1)
        #expect(machine.waiterCount == 2)
    }

    @Test func acquireTimeoutExpiresWaitersOnTheTick() {
        var machine = Machine(configuration: Self.configuration(max: 1, acquireTimeout: .milliseconds(500)))
        let (_, first, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        _ = Self.connectAll(&machine, first!.connect, at: Self.at(1))  // waiter 1 holds the only connection
        _ = Self.request(&machine, waiter: 2, at: Self.at(10))
        _ = Self.request(&machine, waiter: 3, at: Self.at(300))

        #expect(Self.failures(machine.tick(now: Self.at(509))).isEmpty)
        let expired = Self.failures(machine.tick(now: Self.at(510)))
        #expect(expired.map(\.0) == [2] && expired.map(\.1) == [.acquireTimeout])
        #expect(machine.waiterCount == 1)
        #expect(Self.failures(machine.tick(now: Self.at(800))).map(\.0) == [3])
        #expect(machine.metrics(now: Self.at(0)).acquireTimeouts == 2)
    }

    @Test func cancelledWaiterLeavesTheQueue() {
        var machine = Machine(configuration: Self.configuration(max: 1))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        // waiter ids are assigned in order: 0 for the first.
        #expect(machine.cancelWaiter(0) == 1)
        #expect(machine.cancelWaiter(0) == nil)
        #expect(machine.waiterCount == 0)
        let (_, served, _) = Self.connectAll(&machine, actions!.connect, at: Self.at(5))
        #expect(served.isEmpty)
        #expect(machine.idleCount == 1)
        // The stale queue entry is skipped by timeouts too.
        #expect(machine.tick(now: Self.at(10_000)) == Machine.Actions())
    }

    @Test func releaseOfAClosedConnectionClosesItAndReplacesItForWaiters() {
        var machine = Machine(configuration: Self.configuration(max: 1))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        let (connections, served, _) = Self.connectAll(&machine, actions!.connect, at: Self.at(1))
        _ = Self.request(&machine, waiter: 2, at: Self.at(2))
        let lease = served[0].1
        guard case .close(let closed) = machine.release(lease.id, leasedAt: lease.leasedAt, now: Self.at(3), connectionClosed: true) else {
            Issue.record("expected close")
            return
        }
        #expect(closed === connections[lease.id])
        // At the cap until the close completes; then a replacement is opened for waiter 2.
        #expect(machine.tick(now: Self.at(4)).connect.isEmpty)
        let replaced = machine.connectionClosed(lease.id, now: Self.at(5))
        #expect(replaced.connect.count == 1)
        let (_, again, _) = Self.connectAll(&machine, replaced.connect, at: Self.at(6), start: 10)
        #expect(again.map(\.0) == [2])
        #expect(machine.metrics(now: Self.at(0)).connectionsClosed == 1)
    }

    @Test func withoutReuseEveryReleaseClosesItsConnection() {
        var configuration = Self.configuration(max: 2)
        configuration.reusesConnections = false
        var machine = Machine(configuration: configuration)
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        let (connections, served, _) = Self.connectAll(&machine, actions!.connect, at: Self.at(1))
        let lease = served[0].1
        guard case .close(let closed) = machine.release(lease.id, leasedAt: lease.leasedAt, now: Self.at(2)) else {
            Issue.record("expected close: a connection is never reused")
            return
        }
        #expect(closed === connections[lease.id])
        #expect(machine.idleCount == 0)
        _ = machine.connectionClosed(lease.id, now: Self.at(3))
        // The next lease opens a new connection.
        let (idle, next, _) = Self.request(&machine, waiter: 2, at: Self.at(4))
        #expect(idle == nil && next?.connect.count == 1)
        #expect(machine.metrics(now: Self.at(0)).connectionsClosed == 1)
    }

    @Test func connectionClosedWhileLeasedFreesTheSlot() {
        var machine = Machine(configuration: Self.configuration(max: 2, minConnections: 1))
        let start = machine.start(now: Self.at(0))
        _ = Self.connectAll(&machine, start.connect, at: Self.at(1))
        let (lease, _, _) = Self.request(&machine, waiter: 1, at: Self.at(2))
        let actions = machine.connectionClosed(lease!.id, now: Self.at(3))
        #expect(machine.inUseCount == 0)
        #expect(actions.connect.count == 1)  // back to minimumConnections
        guard case .none = machine.release(lease!.id, leasedAt: lease!.leasedAt, now: Self.at(4)) else {
            Issue.record("release of a removed connection must be a no-op")
            return
        }
        #expect(machine.inUseCount == 0 && machine.metrics(now: Self.at(0)).leaseHoldMs.max >= 1.9)
    }

    // MARK: Backoff and circuit breaker

    @Test func backoffGrowsByOnePointTwoFiveCappedAndJittered() {
        let machine = Machine(configuration: Self.configuration(jitter: 0.1))
        #expect(machine.backoffNanoseconds(failures: 1, randomUnit: 0.5) == 100_000_000)
        #expect(machine.backoffNanoseconds(failures: 2, randomUnit: 0.5) == 125_000_000)
        #expect(machine.backoffNanoseconds(failures: 3, randomUnit: 0.5) == 156_250_000)
        #expect(machine.backoffNanoseconds(failures: 11, randomUnit: 0.5) == 931_322_574)
        #expect(machine.backoffNanoseconds(failures: 12, randomUnit: 0.5) == 1_000_000_000)
        #expect(machine.backoffNanoseconds(failures: 1_000, randomUnit: 0.5) == 1_000_000_000)
        #expect(machine.backoffNanoseconds(failures: 1, randomUnit: 0) == 90_000_000)
        #expect(machine.backoffNanoseconds(failures: 1, randomUnit: 1) == 110_000_000)
    }

    @Test func failedConnectRetriesOnlyAfterBackoff() {
        var machine = Machine(configuration: Self.configuration(max: 4))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        let failed = machine.connectFailed(actions!.connect[0], now: Self.at(10), randomUnit: 0.5)
        #expect(failed == Machine.Actions(events: [.connectFailed(consecutiveFailures: 1, retryInNanoseconds: 100_000_000)]))
        #expect(machine.waiterCount == 1)
        #expect(machine.tick(now: Self.at(109)).connect.isEmpty)
        let retry = machine.tick(now: Self.at(110))
        #expect(retry.connect.count == 1)
        // Only one attempt at a time while failing, even with more waiters.
        _ = Self.request(&machine, waiter: 2, at: Self.at(111))
        #expect(machine.connecting == 1)
        let (_, served, _) = Self.connectAll(&machine, retry.connect, at: Self.at(120))
        #expect(served.map(\.0) == [1])
        #expect(machine.connecting == 1)  // success ends backoff: waiter 2 gets its own connection at once
        #expect(machine.metrics(now: Self.at(0)).connectionFailures == 1)
    }

    @Test func circuitOpensAfterConsecutiveFailuresFailsFastAndProbeCloses() {
        var machine = Machine(configuration: Self.configuration(max: 4, failureThreshold: 3))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        var pending = actions!.connect
        var now = 0
        var opened: Machine.Actions? = nil
        for _ in 1...3 {
            now += 1
            let failed = machine.connectFailed(pending[0], now: Self.at(now), randomUnit: 0.5)
            if failed.events.contains(.circuitOpened(consecutiveFailures: 3)) { opened = failed }
            now += 200
            pending = machine.tick(now: Self.at(now)).connect
        }
        #expect(machine.circuitOpen)
        #expect(Self.failures(opened ?? .init()).map(\.1) == [.redisUnavailable])
        #expect(machine.waiterCount == 0)
        // Fails fast, no queueing.
        let (_, _, error) = Self.request(&machine, waiter: 2, at: Self.at(now))
        #expect(error?.code == .redisUnavailable)
        #expect(machine.metrics(now: Self.at(0)).unavailableRejections == 2)
        #expect(machine.metrics(now: Self.at(0)).circuitOpen)
        // The probe keeps trying without demand, one at a time.
        #expect(pending.count == 1)
        #expect(machine.tick(now: Self.at(now + 10_000)).connect.isEmpty)
        let probeFailed = machine.connectFailed(pending[0], now: Self.at(now + 10_000), randomUnit: 0.5)
        #expect(probeFailed.events.first == .connectFailed(consecutiveFailures: 4, retryInNanoseconds: 195_312_500))
        let probe = machine.tick(now: Self.at(now + 10_196)).connect
        #expect(probe.count == 1)
        let (_, _, closed) = Self.connectAll(&machine, probe, at: Self.at(now + 10_200))
        #expect(closed.events == [.circuitClosed])
        #expect(!machine.circuitOpen)
        let (lease, _, _) = Self.request(&machine, waiter: 3, at: Self.at(now + 10_201))
        #expect(lease != nil)
    }

    // MARK: Idle timeout, keep-alive, leaks

    @Test func idleTimeoutClosesSurplusConnectionsDownToMinimum() {
        var machine = Machine(configuration: Self.configuration(max: 4, minConnections: 1, idleTimeout: .seconds(1)))
        var connects: [PoolConnectionID] = []
        for waiter in 1...3 { connects += Self.request(&machine, waiter: waiter, at: Self.at(0)).1?.connect ?? [] }
        let (_, served, _) = Self.connectAll(&machine, connects, at: Self.at(1))
        for (_, lease) in served { _ = machine.release(lease.id, leasedAt: lease.leasedAt, now: Self.at(10)) }
        #expect(machine.idleCount == 3)
        #expect(machine.tick(now: Self.at(1_009)).close.isEmpty)
        let closing = machine.tick(now: Self.at(1_200))
        #expect(closing.close.count == 2)
        #expect(machine.idleCount == 1)
        #expect(machine.tick(now: Self.at(5_000)).close.isEmpty)
    }

    @Test func keepAlivePingsIdleConnectionsAndClosesOnFailure() {
        var machine = Machine(configuration: Self.configuration(max: 2, minConnections: 2, keepAlive: .seconds(30)))
        let start = machine.start(now: Self.at(0))
        _ = Self.connectAll(&machine, start.connect, at: Self.at(0))
        #expect(machine.tick(now: Self.at(29_000)).ping.isEmpty)
        let pings = machine.tick(now: Self.at(30_000)).ping
        #expect(pings.count == 2)
        #expect(machine.idleCount == 0)
        // Not leasable while pinged: a lease must wait.
        if case .mustWait = machine.lease(now: Self.at(30_001)) {} else { Issue.record("expected wait while pinging") }
        _ = machine.enqueue(0, waiter: 7, enqueuedAt: Self.at(30_001), now: Self.at(30_001))
        let ok = machine.pingCompleted(pings[0].id, success: true, now: Self.at(30_002))
        // The waiter gets the freshly pinged connection.
        let handedOver = Machine.Lease(id: pings[0].id, connection: pings[0].connection, leasedAt: Self.at(30_002))
        #expect(ok == Machine.Actions(resume: [.init(waiter: 7, result: .success(handedOver))]))
        let bad = machine.pingCompleted(pings[1].id, success: false, now: Self.at(30_002))
        #expect(bad == Machine.Actions(close: [pings[1].connection]))
        // The closed one is replaced (minimumConnections).
        #expect(machine.connectionClosed(pings[1].id, now: Self.at(30_003)).connect.count == 1)
    }

    @Test func leakDetectionWarnsOncePerLeaseWithItsAge() {
        var machine = Machine(configuration: Self.configuration(max: 1, leak: .seconds(2)))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        let (_, served, _) = Self.connectAll(&machine, actions!.connect, at: Self.at(0))
        #expect(machine.tick(now: Self.at(1_999)).events.isEmpty)
        let warned = machine.tick(now: Self.at(2_100))
        #expect(warned == Machine.Actions(events: [.leakSuspected(connection: served[0].1.id, leaseAgeNanoseconds: 2_100_000_000)]))
        #expect(machine.tick(now: Self.at(2_300)).events.isEmpty)
    }

    // MARK: Shutdown

    @Test func shutdownFailsWaitersClosesIdleAndWaitsForLeases() {
        var machine = Machine(configuration: Self.configuration(max: 2))
        var connects: [PoolConnectionID] = []
        for waiter in 1...2 { connects += Self.request(&machine, waiter: waiter, at: Self.at(0)).1?.connect ?? [] }
        let (connections, served, _) = Self.connectAll(&machine, connects, at: Self.at(1))
        _ = machine.release(served[1].1.id, leasedAt: served[1].1.leasedAt, now: Self.at(2))  // one idle, one leased
        _ = Self.request(&machine, waiter: 2, at: Self.at(3))  // leased the idle one
        _ = Self.request(&machine, waiter: 3, at: Self.at(3))  // queued

        let begin = machine.beginShutdown(now: Self.at(4), deadline: Self.at(5_000))
        #expect(Self.failures(begin).map(\.1) == [.poolShutdown])
        #expect(!begin.shutdownCompleted)
        let (_, _, error) = Self.request(&machine, waiter: 4, at: Self.at(5))
        #expect(error?.code == .poolShutdown)
        // A returned lease is closed, not parked.
        guard case .close = machine.release(served[0].1.id, leasedAt: served[0].1.leasedAt, now: Self.at(6)) else {
            Issue.record("expected close on release during shutdown")
            return
        }
        #expect(!machine.connectionClosed(served[0].1.id, now: Self.at(7)).shutdownCompleted)
        // The deadline force-closes the last lease.
        let forced = machine.tick(now: Self.at(5_000))
        #expect(forced.close.count == 1 && forced.events == [.shutdownForcedClose(connections: 1)])
        let remaining = connections.keys.first { $0 != served[0].1.id }!
        #expect(machine.connectionClosed(remaining, now: Self.at(5_001)).shutdownCompleted)
        #expect(machine.isShutDown)
    }

    @Test func shutdownOfAnEmptyPoolCompletesAtOnce() {
        var machine = Machine(configuration: Self.configuration())
        #expect(machine.beginShutdown(now: Self.at(0), deadline: Self.at(100)) == Machine.Actions(shutdownCompleted: true))
        #expect(machine.beginShutdown(now: Self.at(1), deadline: Self.at(100)).isEmpty)
    }

    @Test func connectionsFinishingDuringShutdownAreClosed() {
        var machine = Machine(configuration: Self.configuration())
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        _ = machine.beginShutdown(now: Self.at(1), deadline: Self.at(100))
        let connection = FakeConnection(1)
        let late = machine.connectSucceeded(actions!.connect[0], connection: connection, now: Self.at(2))
        #expect(late == Machine.Actions(close: [connection]))
        #expect(machine.connectionClosed(actions!.connect[0], now: Self.at(3)).shutdownCompleted)
    }

    // MARK: Parts

    @Test func slotCountsFollowEveryTransition() {
        typealias Slots = PoolConnectionSlots<FakeConnection>
        var slots = Slots()
        let a = slots.addConnecting(now: Self.at(0))
        let b = slots.addConnecting(now: Self.at(0))
        #expect(slots.counts.connecting == 2 && slots.counts.total == 2)
        #expect(slots.setConnection(FakeConnection(1), of: a) && slots.setConnection(FakeConnection(2), of: b))
        slots.transition(a, to: .idle(since: Self.at(1), lastActivity: Self.at(1)), now: Self.at(1))
        slots.transition(b, to: .idle(since: Self.at(2), lastActivity: Self.at(2)), now: Self.at(2))
        #expect(slots.counts.idle == 2 && slots.idle == [a, b])
        // LIFO: the most recently parked connection is leased first.
        #expect(slots.leaseIdle(now: Self.at(3))?.id == b)
        #expect(slots.counts.leased == 1 && slots.counts.idle == 1 && slots.peakLeased == 1)
        slots.transition(a, to: .pinging(idleSince: Self.at(1)), now: Self.at(4))
        #expect(slots.idle.isEmpty && slots.counts.pinging == 1)
        #expect(slots.leaseIdle(now: Self.at(5)) == nil)
        slots.transition(b, to: .closing, now: Self.at(6))
        #expect(slots.counts.leased == 0 && slots.counts.closing == 1 && slots.counts.alive == 1)
        #expect(slots.remove(b, now: Self.at(7)) != nil && slots.remove(b, now: Self.at(7)) == nil)
        #expect(slots.remove(a, now: Self.at(8)) != nil)
        #expect(slots.counts == .init() && slots.isEmpty)
    }

    @Test func waiterQueueIsFIFOCancelsAndExpiresFromTheFront() {
        var queue = PoolWaiterQueue<Int>()
        for id in 0..<4 {
            queue.enqueue(id, .init(waiter: 10 + id, enqueuedAt: Self.at(id), deadline: Self.at(100 + id)))
        }
        #expect(queue.count == 4 && queue.peak == 4)
        #expect(queue.cancel(1) == 11 && queue.cancel(1) == nil)
        #expect(queue.popExpired(now: Self.at(99)) == nil)
        #expect(queue.popExpired(now: Self.at(102))?.waiter == 10)
        #expect(queue.popExpired(now: Self.at(102))?.waiter == 12)  // the cancelled one is skipped
        #expect(queue.popExpired(now: Self.at(102)) == nil)
        #expect(queue.popFirst()?.waiter == 13 && queue.popFirst() == nil)
        #expect(queue.isEmpty && queue.peak == 4)
    }

    @Test func poolStateFollowsConnectHealthAndShutdown() {
        var machine = Machine(configuration: Self.configuration(max: 4, failureThreshold: 2))
        let (_, actions, _) = Self.request(&machine, waiter: 1, at: Self.at(0))
        #expect(machine.state == .running)
        _ = machine.connectFailed(actions!.connect[0], now: Self.at(10), randomUnit: 0.5)
        #expect(machine.state == .connectionCreationFailing(consecutiveFailures: 1, nextAttempt: Self.at(110)))
        let retry = machine.tick(now: Self.at(110)).connect
        _ = machine.connectFailed(retry[0], now: Self.at(120), randomUnit: 0.5)
        #expect(machine.state == .circuitOpen(consecutiveFailures: 2, nextAttempt: Self.at(245)))
        let probe = machine.tick(now: Self.at(245)).connect
        _ = machine.connectSucceeded(probe[0], connection: FakeConnection(1), now: Self.at(250))
        #expect(machine.state == .running)
        _ = machine.beginShutdown(now: Self.at(300), deadline: Self.at(400))
        #expect(machine.state == .shuttingDown(deadline: Self.at(400)))
    }

    @Test func metricsSnapshotReportsUtilization() {
        var machine = Machine(configuration: Self.configuration(max: 4, minConnections: 4))
        let start = machine.start(now: Self.at(0))
        _ = Self.connectAll(&machine, start.connect, at: Self.at(0))
        _ = Self.request(&machine, waiter: 1, at: Self.at(1))
        _ = Self.request(&machine, waiter: 2, at: Self.at(1))
        let metrics = machine.metrics(now: Self.at(0))
        #expect(metrics.maximumConnections == 4 && metrics.totalConnections == 4)
        #expect(metrics.inUse == 2 && metrics.idle == 2 && metrics.waiters == 0)
        #expect(metrics.utilization == 0.5)
        #expect(metrics.leases == 2 && metrics.acquireWaitMs == .init())
    }
}
