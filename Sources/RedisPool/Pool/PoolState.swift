import NIOCore

/// The pool's lifecycle and connect health: exactly one of these at a time.
///
/// `running` → `connectionCreationFailing` (a connect failed) → `circuitOpen` (the circuit breaker's threshold of
/// consecutive failures reached) → `running` (a connect succeeded); any of those → `shuttingDown` → `shutDown`.
package enum PoolState: Hashable, Sendable {
    /// Leases are served; connections are opened on demand and up to `minimumConnections`.
    case running
    /// The last `consecutiveFailures` connection attempts failed: one attempt at a time, not before `nextAttempt`,
    /// and only while there is demand. Leases still queue.
    case connectionCreationFailing(consecutiveFailures: Int, nextAttempt: NIODeadline)
    /// The circuit breaker is open: leases that find no idle connection fail at once with `redisUnavailable`; one
    /// probe connection at a time, not before `nextAttempt`, even without demand.
    case circuitOpen(consecutiveFailures: Int, nextAttempt: NIODeadline)
    /// New leases fail with `poolShutdown`; leased connections are closed when they come back or at `deadline`.
    case shuttingDown(deadline: NIODeadline)
    /// Every connection is closed.
    case shutDown

    /// Running, connection creation failing or circuit open: the pool takes leases and opens connections.
    package var isRunning: Bool {
        switch self {
        case .running, .connectionCreationFailing, .circuitOpen: true
        case .shuttingDown, .shutDown: false
        }
    }

    package var isCircuitOpen: Bool {
        if case .circuitOpen = self { true } else { false }
    }

    /// Connection attempts that failed in a row (0 unless creation is failing or the circuit is open).
    package var consecutiveFailures: Int {
        switch self {
        case .connectionCreationFailing(let failures, _), .circuitOpen(let failures, _): failures
        case .running, .shuttingDown, .shutDown: 0
        }
    }

    /// The earliest time of the next connection attempt after failures; `nil` when attempts are not held back.
    package var nextConnectAttempt: NIODeadline? {
        switch self {
        case .connectionCreationFailing(_, let next), .circuitOpen(_, let next): next
        case .running, .shuttingDown, .shutDown: nil
        }
    }
}
