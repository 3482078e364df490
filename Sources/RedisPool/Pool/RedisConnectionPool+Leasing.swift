import NIOConcurrencyHelpers
import NIOCore

/// The one lease path. Step 1, ``leaseNow(handedOver:attempt:)``: an idle connection at once (no allocation), the
/// pool's refusal, or a waiter id. Step 2, ``waitForLease(_:since:attempt:slot:_:)``: the operation is queued and run
/// by whichever event loop hands a connection over. ``withLease(attempt:slot:handedOver:_:)`` composes the two into a
/// future; the async APIs are thin wrappers over them, cancelling a queued waiter when their task is cancelled.
/// An operation owns its lease: it must release it (``releasing(_:_:)`` does so when a future completes).
extension RedisConnectionPool {
    /// Leases a connection whose channel is not known to be closed. A connection can close before the pool processes
    /// its `closeFuture`: such a lease (also `handedOver`, one given to a waiter) is released as closed and the pool is
    /// asked again, at most `maximumConnections` times, then the lease fails with `redisUnavailable`. Returns the
    /// decision and the time it was taken (the enqueue time of a `.mustWait`).
    @inline(__always)
    func leaseNow(handedOver: Lease? = nil, attempt: inout Int) -> (Machine.LeaseDecision, NIODeadline) {
        var now = NIODeadline.now()
        var decision: Machine.LeaseDecision
        if let handedOver {
            decision = .leased(handedOver)
        } else {
            decision = state.withLockedValue { $0.machine.lease(now: now) }
        }
        while case .leased(let lease) = decision, lease.connection.isClosed {
            release(lease, closed: true, roundTrips: 0)
            guard attempt < configuration.maximumConnections else {
                return (.failed(.everyConnectionClosed), now)
            }
            attempt += 1
            now = .now()
            decision = state.withLockedValue { $0.machine.lease(now: now) }
        }
        return (decision, now)
    }

    /// Leases a connection and runs `operation` with it: at once when one is idle, else when one is handed over to the
    /// queued operation (on the releasing event loop, without a task hop). The future fails with the pool's refusal
    /// (``RedisPoolError``), `acquireTimeout`, or `CancellationError` once `slot` is cancelled.
    func withLease<T: Sendable>(
        attempt: Int = 0,
        slot: WaiterSlot? = nil,
        handedOver: Lease? = nil,
        _ operation: @escaping @Sendable (Lease) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        var attempt = attempt
        let (decision, now) = leaseNow(handedOver: handedOver, attempt: &attempt)
        switch decision {
        case .leased(let lease):
            return operation(lease)
        case .failed(let error):
            return eventLoopGroup.any().makeFailedFuture(error)
        case .mustWait(let id):
            return waitForLease(id, since: now, attempt: attempt, slot: slot, operation)
        }
    }

    /// Queues `operation` as waiter `id` (from a `.mustWait` decision taken at `now`); it runs when a connection is
    /// handed over. With a `slot`, cancelling it removes the waiter (the future fails with `CancellationError`).
    func waitForLease<T: Sendable>(
        _ id: PoolWaiterID,
        since now: NIODeadline,
        attempt: Int,
        slot: WaiterSlot?,
        _ operation: @escaping @Sendable (Lease) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let promise = eventLoopGroup.any().makePromise(of: T.self)
        let recordsWait = configuration.recordsLeaseTimers
        let waiter = PoolWaiter<Lease> { result in
            switch result {
            case .success(let lease):
                if recordsWait { self.publisher.waitTime.recordNanoseconds(lease.leasedAt.nanoseconds(since: now)) }
                self.withLease(attempt: attempt, slot: slot, handedOver: lease, operation).cascade(to: promise)
            case .failure(let error):
                promise.fail(error)
            }
        }
        if let slot, !slot.set(id) {
            promise.fail(CancellationError())
            return promise.futureResult
        }
        let enqueued = state.withLockedValue { $0.machine.enqueue(id, waiter: waiter, enqueuedAt: now, now: .now()) }
        switch enqueued {
        case .leased(let lease): waiter.resume(returning: lease)
        case .failed(let error): waiter.resume(throwing: error)
        case .enqueued(let actions):
            execute(actions)
            // Cancelled between `set` and `enqueue`: the handler found nothing to remove, so remove it here.
            if let slot, slot.isCancelled { cancelQueued(id) }
        }
        return promise.futureResult
    }

    /// Releases `lease` when `future` completes; a failure counts as a command error or timeout.
    @inline(__always)
    func releasing<T>(_ lease: Lease, _ future: EventLoopFuture<T>) -> EventLoopFuture<T> {
        future.whenComplete { result in
            if case .failure(let error) = result { self.countError(error) }
            self.release(lease)
        }
        return future
    }

    /// Sends one command on the lease's connection and releases the lease with the reply.
    func send(_ arguments: [String], on lease: Lease) -> EventLoopFuture<RedisReply> {
        releasing(lease, lease.connection.send(arguments))
    }

    /// The async face of the lease path for callers that hold the lease themselves (``withConnection(_:)``): an idle
    /// connection is returned without a future; otherwise the task awaits ``waitForLease(_:since:attempt:slot:_:)``.
    func lease() async throws -> Lease {
        var attempt = 0
        let (decision, now) = leaseNow(attempt: &attempt)
        switch decision {
        case .leased(let lease):
            return lease
        case .failed(let error):
            throw error
        case .mustWait(let id):
            return try await cancellable { slot in
                self.waitForLease(id, since: now, attempt: attempt, slot: slot) { lease in
                    lease.connection.eventLoop.makeSucceededFuture(lease)
                }
            }
        }
    }

    /// Awaits the future `start` returns; cancelling the task removes the waiter it queued, if any.
    func cancellable<T: Sendable>(_ start: (WaiterSlot) -> EventLoopFuture<T>) async throws -> T {
        let slot = WaiterSlot()
        return try await withTaskCancellationHandler {
            try await start(slot).get()
        } onCancel: {
            if let id = slot.cancel() { self.cancelQueued(id) }
        }
    }

    func cancelQueued(_ id: PoolWaiterID) {
        let waiter = state.withLockedValue { $0.machine.cancelWaiter(id) }
        waiter?.resume(throwing: CancellationError())
    }

    /// Gives a lease back: parks the connection, hands it to the oldest waiter, or closes it (`closed`, or known
    /// closed). `roundTrips`: the commands or pipelines it carried.
    @inline(__always)
    func release(_ lease: Lease, closed: Bool = false, roundTrips: Int = 1) {
        let now = NIODeadline.now()
        let isClosed = closed || lease.connection.isClosed
        let action = state.withLockedValue {
            $0.machine.release(
                lease.id, leasedAt: lease.leasedAt, now: now, connectionClosed: isClosed, roundTrips: roundTrips)
        }
        switch action {
        case .none:
            break
        case .handOff(let waiter, let next):
            waiter.resume(returning: next)
        case .close(let connection):
            connection.close()
        }
        if configuration.recordsLeaseTimers {
            publisher.useTime.recordNanoseconds(now.nanoseconds(since: lease.leasedAt))
        }
    }

    func countError(_ error: any Error, commands: Int = 1) {
        if let error = error as? RedisConnectionError, error.code == .commandTimeout {
            commandTimeouts.wrappingIncrement(by: commands, ordering: .relaxed)
        } else if error is RedisServerError || error is RedisConnectionError {
            commandErrors.wrappingIncrement(by: commands, ordering: .relaxed)
        }
    }
}

/// The waiter id of a queued operation, shared with its task's cancellation handler.
final class WaiterSlot: Sendable {
    private let state = NIOLockedValueBox<(id: PoolWaiterID?, cancelled: Bool)>((nil, false))
    /// Records the id; `false` when the task was already cancelled (then it must not be queued).
    func set(_ id: PoolWaiterID) -> Bool {
        state.withLockedValue { state in
            if state.cancelled { return false }
            state.id = id
            return true
        }
    }
    /// Marks cancelled and returns the id to remove, if one was queued.
    func cancel() -> PoolWaiterID? {
        state.withLockedValue { state in
            state.cancelled = true
            return state.id
        }
    }
    var isCancelled: Bool { state.withLockedValue { $0.cancelled } }
}

/// A queued lease request: a suspended task or a command to write as soon as a connection is handed over.
struct PoolWaiter<Lease: Sendable>: Sendable {
    let complete: @Sendable (Result<Lease, any Error>) -> Void
    init(_ complete: @escaping @Sendable (Result<Lease, any Error>) -> Void) { self.complete = complete }
    func resume(returning lease: Lease) { complete(.success(lease)) }
    func resume(throwing error: any Error) { complete(.failure(error)) }
}
