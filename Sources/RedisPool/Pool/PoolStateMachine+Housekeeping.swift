import NIOCore

extension PoolStateMachine {
    /// The periodic tick: expires overdue waiters; every `housekeepingInterval` also closes idle connections past
    /// `idleTimeout`, pings idle ones past `keepAliveInterval`, reports suspected leaks; retries connecting after
    /// backoff; forces the shutdown deadline.
    package mutating func tick(now: NIODeadline) -> Actions {
        var actions = Actions()
        expireWaiters(now: now, into: &actions)
        switch state {
        case .shutDown:
            return actions
        case .shuttingDown(let deadline):
            if now >= deadline { forceCloseForShutdown(now: now, into: &actions) }
            finishShutdownIfDone(into: &actions)
            return actions
        case .running, .connectionCreationFailing, .circuitOpen:
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
        while let entry = waiters.popExpired(now: now) {
            statistics.acquireTimeouts += 1
            actions.resume.append(Resume(waiter: entry.waiter, result: .failure(.acquireTimeout)))
        }
    }

    /// Closes idle connections unused for `idleTimeout`, oldest first, while more than `minimumConnections` are open.
    private mutating func closeIdleTimedOut(now: NIODeadline, into actions: inout Actions) {
        guard let idleTimeout else { return }
        var index = 0
        while index < slots.idle.count, slots.counts.alive > minimumConnections {
            let id = slots.idle[index]
            if let slot = slots[id], case .idle(let since, _) = slot.state, let connection = slot.connection,
                now.nanoseconds(since: since) >= idleTimeout
            {
                slots.transition(id, to: .closing, now: now)  // leaves the idle stack
                actions.close.append(connection)
                actions.events.append(.idleTimeout(connection: id))
            } else {
                index += 1
            }
        }
    }

    private mutating func pingIdle(now: NIODeadline, into actions: inout Actions) {
        guard let keepAliveInterval else { return }
        var index = 0
        while index < slots.idle.count {
            let id = slots.idle[index]
            if let slot = slots[id], case .idle(let since, let lastActivity) = slot.state,
                let connection = slot.connection, now.nanoseconds(since: lastActivity) >= keepAliveInterval
            {
                slots.transition(id, to: .pinging(idleSince: since), now: now)  // leaves the idle stack
                actions.ping.append(Ping(id: id, connection: connection))
            } else {
                index += 1
            }
        }
    }

    private mutating func reportLeaks(now: NIODeadline, into actions: inout Actions) {
        guard let leakThreshold, slots.counts.leased > 0 else { return }
        let unreported = slots.ids { state in
            if case .leased(_, leakReported: false) = state { true } else { false }
        }
        for id in unreported {
            guard case .leased(let since, _)? = slots[id]?.state else { continue }
            let age = now.nanoseconds(since: since)
            if age >= leakThreshold {
                slots.transition(id, to: .leased(since: since, leakReported: true), now: now)
                actions.events.append(.leakSuspected(connection: id, leaseAgeNanoseconds: age))
            }
        }
    }
}
