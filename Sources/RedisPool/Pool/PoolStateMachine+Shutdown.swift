import NIOCore

extension PoolStateMachine {
    /// Stops new leases (they fail with `poolShutdown`), fails queued waiters, closes idle connections; leased ones
    /// are closed when they come back or at `deadline` (checked by ``tick(now:)``). A second call can only move the
    /// deadline earlier.
    package mutating func beginShutdown(now: NIODeadline, deadline: NIODeadline) -> Actions {
        var actions = Actions()
        switch state {
        case .running, .connectionCreationFailing, .circuitOpen:
            state = .shuttingDown(deadline: deadline)
        case .shuttingDown(let current):
            if deadline < current { state = .shuttingDown(deadline: deadline) }
        case .shutDown:
            return actions
        }
        failAllWaiters(.poolShutdown, counter: nil, into: &actions)
        let idle = slots.idle
        for id in idle {
            guard let connection = slots.transition(id, to: .closing, now: now) else {
                preconditionFailure("idle pool slot \(id) has no connection")
            }
            actions.close.append(connection)
        }
        if now >= deadline { forceCloseForShutdown(now: now, into: &actions) }
        finishShutdownIfDone(into: &actions)
        return actions
    }

    /// Closes every leased connection (the shutdown deadline passed).
    mutating func forceCloseForShutdown(now: NIODeadline, into actions: inout Actions) {
        let leased = slots.ids { state in
            if case .leased = state { true } else { false }
        }
        var forced = 0
        for id in leased {
            guard let connection = slots.transition(id, to: .closing, now: now) else {
                preconditionFailure("leased pool slot \(id) has no connection")
            }
            forced += 1
            actions.close.append(connection)
        }
        if forced > 0 { actions.events.append(.shutdownForcedClose(connections: forced)) }
    }

    mutating func finishShutdownIfDone(into actions: inout Actions) {
        guard case .shuttingDown = state, slots.isEmpty else { return }
        state = .shutDown
        actions.shutdownCompleted = true
    }
}
