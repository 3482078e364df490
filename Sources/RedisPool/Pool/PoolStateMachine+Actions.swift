extension PoolStateMachine {
    package typealias Lease = PoolLease<Connection>

    /// Outcome of ``PoolStateMachine/lease(now:)``.
    package enum LeaseDecision {
        /// An idle connection was leased.
        case leased(Lease)
        /// No idle connection: call ``PoolStateMachine/enqueue(_:waiter:enqueuedAt:now:)`` with this id.
        case mustWait(PoolWaiterID)
        case failed(RedisPoolError)
    }

    /// Outcome of ``PoolStateMachine/enqueue(_:waiter:enqueuedAt:now:)``.
    package enum EnqueueDecision {
        /// A connection became idle since ``PoolStateMachine/lease(now:)``: the waiter was not queued.
        case leased(Lease)
        /// Queued; run these actions (connections to open).
        case enqueued(Actions)
        case failed(RedisPoolError)
    }

    /// Outcome of ``PoolStateMachine/release(_:leasedAt:now:connectionClosed:roundTrips:)``.
    package enum ReleaseAction {
        /// The connection was parked idle (or was gone already).
        case none
        /// Give the connection to this waiter.
        case handOff(Waiter, Lease)
        /// Close this connection (it is closed already, the pool is shutting down, or it does not reuse connections).
        case close(Connection)
    }

    /// Something to log.
    package enum Event: Hashable, Sendable {
        case circuitOpened(consecutiveFailures: Int)
        case circuitClosed
        case connectFailed(consecutiveFailures: Int, retryInNanoseconds: Int64)
        case leakSuspected(connection: PoolConnectionID, leaseAgeNanoseconds: Int64)
        case idleTimeout(connection: PoolConnectionID)
        case shutdownForcedClose(connections: Int)
    }

    /// Complete a waiter with a lease or an error.
    package struct Resume {
        package var waiter: Waiter
        package var result: Result<Lease, RedisPoolError>

        package init(waiter: Waiter, result: Result<Lease, RedisPoolError>) {
            self.waiter = waiter
            self.result = result
        }
    }

    /// Send a keep-alive `PING` on connection `id`, then report ``PoolStateMachine/pingCompleted(_:success:now:)``.
    package struct Ping {
        package var id: PoolConnectionID
        package var connection: Connection

        package init(id: PoolConnectionID, connection: Connection) {
            self.id = id
            self.connection = connection
        }
    }

    /// Side effects for the runner, in this order: resume waiters, close, ping, connect, log.
    package struct Actions {
        /// Open a connection for each slot id; report ``PoolStateMachine/connectSucceeded(_:connection:now:)`` or
        /// ``PoolStateMachine/connectFailed(_:now:randomUnit:)``.
        package var connect: [PoolConnectionID]
        package var close: [Connection]
        package var ping: [Ping]
        package var resume: [Resume]
        package var events: [Event]
        /// The last connection closed during shutdown: the pool is shut down.
        package var shutdownCompleted: Bool

        package init(
            connect: [PoolConnectionID] = [],
            close: [Connection] = [],
            ping: [Ping] = [],
            resume: [Resume] = [],
            events: [Event] = [],
            shutdownCompleted: Bool = false
        ) {
            self.connect = connect
            self.close = close
            self.ping = ping
            self.resume = resume
            self.events = events
            self.shutdownCompleted = shutdownCompleted
        }

        package var isEmpty: Bool {
            connect.isEmpty && close.isEmpty && ping.isEmpty && resume.isEmpty && events.isEmpty && !shutdownCompleted
        }
    }
}

extension PoolStateMachine.LeaseDecision: Equatable where Connection: Equatable {}
extension PoolStateMachine.EnqueueDecision: Equatable where Connection: Equatable, Waiter: Equatable {}
extension PoolStateMachine.ReleaseAction: Equatable where Connection: Equatable, Waiter: Equatable {}
extension PoolStateMachine.Resume: Equatable where Connection: Equatable, Waiter: Equatable {}
extension PoolStateMachine.Ping: Equatable where Connection: Equatable {}
extension PoolStateMachine.Actions: Equatable where Connection: Equatable, Waiter: Equatable {}

extension PoolStateMachine.LeaseDecision: Sendable where Connection: Sendable {}
extension PoolStateMachine.EnqueueDecision: Sendable where Connection: Sendable, Waiter: Sendable {}
extension PoolStateMachine.ReleaseAction: Sendable where Connection: Sendable, Waiter: Sendable {}
extension PoolStateMachine.Resume: Sendable where Connection: Sendable, Waiter: Sendable {}
extension PoolStateMachine.Ping: Sendable where Connection: Sendable {}
extension PoolStateMachine.Actions: Sendable where Connection: Sendable, Waiter: Sendable {}
