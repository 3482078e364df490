import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A pool of ``RedisConnection``s, bounded by `maximumConnections`, with a FIFO waiter queue, acquire timeout,
/// reconnect backoff, circuit breaker, keep-alive, idle timeout, leak detection and metrics.
///
/// The decisions are made by ``PoolStateMachine`` (pure, tested with a fake clock); this class is the thin runner: one
/// lock around the state machine, and the side effects (connect, close, PING, resume waiters, log) executed outside it.
/// One repeating timer (every `tickInterval`, on one event loop) expires overdue waiters and does the housekeeping.
///
/// The pool serves leases as soon as it is created; `run()` (a ServiceLifecycle `Service`) prewarms
/// `minimumConnections` and shuts the pool down gracefully when the service group does.
public final class RedisConnectionPool: Service, Sendable {
    typealias Lease = PoolLease<RedisConnection>
    typealias Waiter = PoolWaiter<Lease>
    typealias Machine = PoolStateMachine<RedisConnection, Waiter>

    struct State: Sendable {
        var machine: Machine
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var shutdownComplete = false
        var ticker: RepeatedTask? = nil
        var ticksUntilPublish = 0
        var lastPublishedTimeouts = 0
    }

    public let configuration: Configuration
    public let endpoint: RedisEndpoint
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let state: NIOLockedValueBox<State>
    private let commandErrors = ManagedAtomic<Int>(0)
    private let connectionLossRetries = ManagedAtomic<Int>(0)
    private let commandTimeouts = ManagedAtomic<Int>(0)
    private let publisher: PoolMetricsPublisher
    private let ticksPerPublish: Int
    /// Auto-pipelining: one batch per event loop of the group, each touched only on its loop.
    let tickBatches: [ObjectIdentifier: NIOLoopBoundBox<TickBatch>]

    public init(
        configuration: Configuration = .init(),
        endpoint: RedisEndpoint,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "redis.pool"] = "\(configuration.poolName)"
        self.logger = logger
        self.state = NIOLockedValueBox(State(machine: Machine(configuration: configuration)))
        self.publisher = PoolMetricsPublisher(poolName: configuration.poolName)
        let tick = max(1, configuration.tickInterval.nanosecondsClamped)
        self.ticksPerPublish = Int(max(1, configuration.metricsPublishInterval.nanosecondsClamped / tick))
        self.tickBatches = Self.makeTickBatches(eventLoopGroup)

        let interval = TimeAmount.nanoseconds(tick)
        let ticker = eventLoopGroup.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [weak self] task in
            guard let self else {
                task.cancel()
                return
            }
            self.tick()
        }
        self.state.withLockedValue { $0.ticker = ticker }
    }

    deinit {
        self.state.withLockedValue { $0.ticker?.cancel() }
    }

    // MARK: Service

    /// Prewarms `minimumConnections`, then waits. On graceful shutdown it stops new leases, waits up to
    /// `shutdownGracePeriod` for leases to return and closes every connection; on task cancellation it closes at once.
    /// Returns when every connection is closed.
    public func run() async throws {
        let actions = state.withLockedValue { $0.machine.start(now: .now()) }
        execute(actions)
        let grace = TimeAmount.nanoseconds(configuration.shutdownGracePeriod.nanosecondsClamped)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.waitForShutdown()
            } onCancel: {
                self.beginShutdown(deadline: .now())
            }
        } onGracefulShutdown: {
            self.beginShutdown(deadline: .now() + grace)
        }
    }

    /// Graceful shutdown: new leases fail with `poolShutdown`, waiters are failed, idle connections closed; leased
    /// connections are closed when returned or at `deadline`. Returns when every connection is closed.
    public func shutdown(deadline: NIODeadline) async {
        beginShutdown(deadline: deadline)
        await waitForShutdown()
    }

    /// ``shutdown(deadline:)`` with `configuration.shutdownGracePeriod`.
    public func shutdown() async {
        await shutdown(deadline: .now() + .nanoseconds(configuration.shutdownGracePeriod.nanosecondsClamped))
    }

    private func beginShutdown(deadline: NIODeadline) {
        let actions = state.withLockedValue { $0.machine.beginShutdown(now: .now(), deadline: deadline) }
        execute(actions)
    }

    private func waitForShutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state -> Bool in
                if state.shutdownComplete { return true }
                state.shutdownWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Leasing

    /// Leases a connection for `body` and returns it when `body` returns or throws (also on task cancellation).
    /// Errors thrown by `body` are rethrown unchanged. Do not keep the connection after `body` returns.
    public func withConnection<R: Sendable>(_ body: (RedisConnection) async throws -> R) async throws -> R {
        let lease = try await self.lease()
        let result: R
        do {
            result = try await body(lease.connection)
        } catch {
            countError(error)
            release(lease)
            throw error
        }
        release(lease)
        return result
    }

    /// Runs one command on a pooled connection; an error reply is thrown as `RedisServerError`.
    ///
    /// The command never waits for a thread while holding a connection: the lease ends on the connection's event loop
    /// the moment the reply arrives, and a command queued for a connection is written by the event loop that releases
    /// it (not by a task that would first have to be scheduled). A queued command leaves the queue by acquire timeout,
    /// not by task cancellation.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await command(arguments, idempotent: false)
    }

    /// Like ``command(_:)``; an `idempotent` command (a read such as `GET`, or a write that may safely run twice) is
    /// retried on another connection, up to `connectionLossRetries` times and after `connectionLossRetryDelay`
    /// (doubling), when its connection closed before the reply arrived. Each retry is counted in
    /// ``PoolMetrics/connectionLossRetries``.
    @discardableResult
    public func command(_ arguments: [String], idempotent: Bool) async throws -> RedisReply {
        var retries = idempotent ? configuration.connectionLossRetries : 0
        var pause = configuration.connectionLossRetryDelay
        let reply: RedisReply
        while true {
            do {
                reply = try await cancellable { slot in self.withLease(slot: slot) { $0.send(arguments) } }
                break
            } catch let error as RedisConnectionError where error.code == .connectionClosed && retries > 0 {
                retries -= 1
                connectionLossRetries.wrappingIncrement(ordering: .relaxed)
                // Connections often die together (CLIENT KILL, a reset): let their closes reach the pool first, so
                // the retry does not lease another dead one.
                if pause > .zero {
                    try await Task.sleep(for: pause)
                    pause *= 2
                }
            }
        }
        if case .error(let message) = reply {
            commandErrors.wrappingIncrement(ordering: .relaxed)
            throw RedisServerError(message: message)
        }
        return reply
    }

    /// Sends one command on a pooled connection; error replies come back as `.error`.
    public func send(_ arguments: [String]) -> EventLoopFuture<RedisReply> {
        withLease { $0.send(arguments) }
    }

    /// ``command(_:idempotent:)`` without a task: for callers on an event loop (the HTTP handlers). The future fails
    /// with `RedisServerError` for an error reply and completes on the event loop of the connection that answered;
    /// the retries of an `idempotent` command are scheduled on that loop. A queued command leaves the queue by acquire
    /// timeout. Called on one of the pool's event loops, the command is auto-pipelined with the others that loop sends
    /// in the same tick (``Configuration/autoPipelineLimit``).
    public func command(_ arguments: [String], idempotent: Bool) -> EventLoopFuture<RedisReply> {
        self.command(
            arguments,
            retries: idempotent ? configuration.connectionLossRetries : 0,
            pause: configuration.connectionLossRetryDelay
        )
    }

    private func command(_ arguments: [String], retries: Int, pause: Duration) -> EventLoopFuture<RedisReply> {
        pipelined(arguments).flatMapError { error in
            guard retries > 0, let lost = error as? RedisConnectionError, lost.code == .connectionClosed else {
                return self.eventLoopGroup.any().makeFailedFuture(error)
            }
            self.connectionLossRetries.wrappingIncrement(ordering: .relaxed)
            let loop = self.eventLoopGroup.any()
            return loop.flatScheduleTask(in: TimeAmount(pause)) {
                self.command(arguments, retries: retries - 1, pause: pause * 2)
            }.futureResult
        }.flatMapThrowing { reply in
            if case .error(let message) = reply {
                self.commandErrors.wrappingIncrement(ordering: .relaxed)
                throw RedisServerError(message: message)
            }
            return reply
        }
    }

    /// Runs one command on a pooled connection; an error reply is thrown as `RedisServerError`.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await command(arguments)
    }

    /// Sends several commands in one write on one pooled connection; replies in order, error replies as `.error`.
    /// Leased and released like `command`.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await cancellable { slot in self.withLease(slot: slot) { $0.sendPipeline(commands) } }
    }

    /// Leases a connection, runs `operation` on it and releases it when the operation's future completes — on the
    /// event loop, without a task hop. When no connection is free the operation is queued as a waiter and run by
    /// whichever event loop releases a connection.
    /// Awaits a queued operation; cancelling the task removes its waiter from the queue.
    private func cancellable<T: Sendable>(_ start: (WaiterSlot) -> EventLoopFuture<T>) async throws -> T {
        let slot = WaiterSlot()
        return try await withTaskCancellationHandler {
            try await start(slot).get()
        } onCancel: {
            if let id = slot.cancel() { self.cancelQueued(id) }
        }
    }

    private func cancelQueued(_ id: PoolWaiterID) {
        let waiter = state.withLockedValue { $0.machine.cancelWaiter(id) }
        waiter?.resume(throwing: CancellationError())
    }

    func withLease<T: Sendable>(
        attempt: Int = 0,
        slot: WaiterSlot? = nil,
        _ operation: @escaping @Sendable (RedisConnection) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let now = NIODeadline.now()
        let decision = state.withLockedValue { $0.machine.lease(now: now) }
        switch decision {
        case .leased(let lease):
            return run(lease, attempt: attempt, operation)
        case .failed(let error):
            return eventLoopGroup.any().makeFailedFuture(error)
        case .mustWait(let id):
            return waitForLease(id, since: now, attempt: attempt, slot: slot, operation)
        }
    }

    /// Queues `operation` as waiter `id` (from a `.mustWait` lease decision); it runs when a connection is handed over.
    func waitForLease<T: Sendable>(
        _ id: PoolWaiterID,
        since now: NIODeadline,
        attempt: Int,
        slot: WaiterSlot?,
        _ operation: @escaping @Sendable (RedisConnection) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let promise = eventLoopGroup.any().makePromise(of: T.self)
        let recordsWait = configuration.recordsLeaseTimers
        let waiter = PoolWaiter<Lease> { result in
            switch result {
            case .success(let lease):
                if recordsWait { self.publisher.waitTime.recordNanoseconds(lease.leasedAt.nanoseconds(since: now)) }
                self.run(lease, attempt: attempt, operation).cascade(to: promise)
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

    private func run<T: Sendable>(
        _ lease: Lease, attempt: Int, _ operation: @escaping @Sendable (RedisConnection) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        // A connection may have closed before the pool processed its closeFuture: skip it (bounded).
        if lease.connection.isClosed {
            release(lease, closed: true, roundTrips: 0)
            guard attempt < configuration.maximumConnections else {
                return lease.connection.eventLoop.makeFailedFuture(
                    RedisPoolError(code: .redisUnavailable, message: "every leased connection was closed"))
            }
            return withLease(attempt: attempt + 1, operation)
        }
        let future = operation(lease.connection)
        future.whenComplete { result in
            if case .failure(let error) = result { self.countError(error) }
            self.release(lease)
        }
        return future
    }

    @inline(__always)
    func lease() async throws -> Lease {
        // A connection may have closed without the pool having processed its closeFuture yet: skip it (bounded).
        for _ in 0...configuration.maximumConnections {
            let now = NIODeadline.now()
            let decision = state.withLockedValue { $0.machine.lease(now: now) }
            let lease: Lease
            switch decision {
            case .leased(let leased):
                lease = leased
            case .failed(let error):
                throw error
            case .mustWait(let id):
                lease = try await wait(id, enqueuedAt: now)
            }
            if !lease.connection.isClosed { return lease }
            release(lease, closed: true, roundTrips: 0)
        }
        throw RedisPoolError(code: .redisUnavailable, message: "every leased connection was closed")
    }

    private func wait(_ id: PoolWaiterID, enqueuedAt: NIODeadline) async throws -> Lease {
        let lease = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Lease, any Error>) in
                // Checked under the lock: if the cancellation handler already ran it found no waiter to remove,
                // so a cancelled task must not be queued.
                let waiter = PoolWaiter<Lease> { continuation.resume(with: $0) }
                let decision = state.withLockedValue { state -> Machine.EnqueueDecision? in
                    if Task.isCancelled { return nil }
                    return state.machine.enqueue(id, waiter: waiter, enqueuedAt: enqueuedAt, now: .now())
                }
                switch decision {
                case nil:
                    continuation.resume(throwing: CancellationError())
                case .leased(let lease):
                    continuation.resume(returning: lease)
                case .failed(let error):
                    continuation.resume(throwing: error)
                case .enqueued(let actions):
                    execute(actions)
                }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.machine.cancelWaiter(id) }
            waiter?.resume(throwing: CancellationError())
        }
        if configuration.recordsLeaseTimers {
            publisher.waitTime.recordNanoseconds(lease.leasedAt.nanoseconds(since: enqueuedAt))
        }
        return lease
    }

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

    // MARK: Metrics

    /// A consistent snapshot (one lock acquire; percentiles computed from the HdrHistograms).
    public func metrics() -> PoolMetrics {
        let errors = commandErrors.load(ordering: .relaxed)
        let timeouts = commandTimeouts.load(ordering: .relaxed)
        var metrics = state.withLockedValue { $0.machine.metrics(now: .now(), commandErrors: errors, commandTimeouts: timeouts) }
        metrics.connectionLossRetries = connectionLossRetries.load(ordering: .relaxed)
        return metrics
    }

    // MARK: Runner

    private func tick() {
        let (actions, publish) = state.withLockedValue { state -> (Machine.Actions, (PoolMetrics, Int)?) in
            let now = NIODeadline.now()
            let actions = state.machine.tick(now: now)
            state.ticksUntilPublish -= 1
            guard state.ticksUntilPublish <= 0 else { return (actions, nil) }
            state.ticksUntilPublish = ticksPerPublish
            let timeouts = state.machine.statistics.acquireTimeouts
            let newTimeouts = timeouts - state.lastPublishedTimeouts
            state.lastPublishedTimeouts = timeouts
            return (actions, (state.machine.metrics(now: now), newTimeouts))
        }
        execute(actions)
        if let (metrics, newTimeouts) = publish {
            publisher.publish(metrics, newTimeouts: newTimeouts)
        }
    }

    private func execute(_ actions: Machine.Actions) {
        for resume in actions.resume {
            switch resume.result {
            case .success(let lease): resume.waiter.resume(returning: lease)
            case .failure(let error): resume.waiter.resume(throwing: error)
            }
        }
        for connection in actions.close {
            connection.close()
        }
        for ping in actions.ping {
            let id = ping.id
            ping.connection.send(["PING"]).whenComplete { result in
                let success: Bool
                if case .success(.status("PONG")) = result { success = true } else { success = false }
                let actions = self.state.withLockedValue { $0.machine.pingCompleted(id, success: success, now: .now()) }
                self.execute(actions)
            }
        }
        for id in actions.connect {
            startConnecting(id)
        }
        for event in actions.events {
            log(event)
        }
        if actions.shutdownCompleted {
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.shutdownComplete = true
                state.ticker?.cancel()
                state.ticker = nil
                defer { state.shutdownWaiters = [] }
                return state.shutdownWaiters
            }
            logger.debug("redis connection pool shut down")
            for waiter in waiters { waiter.resume() }
        }
    }

    private func startConnecting(_ id: PoolConnectionID) {
        let started = NIODeadline.now()
        RedisConnection.connect(
            to: endpoint,
            connectTimeout: configuration.connectTimeout,
            commandTimeout: configuration.commandTimeout,
            eventLoop: eventLoopGroup.next(),
            logger: logger
        ).whenComplete { result in
            let now = NIODeadline.now()
            switch result {
            case .success(let connection):
                self.publisher.createTime.recordNanoseconds(now.nanoseconds(since: started))
                let actions = self.state.withLockedValue {
                    $0.machine.connectSucceeded(id, connection: connection, now: now)
                }
                connection.closeFuture.whenComplete { _ in
                    let actions = self.state.withLockedValue { $0.machine.connectionClosed(id, now: .now()) }
                    self.execute(actions)
                }
                self.execute(actions)
            case .failure(let error):
                let actions = self.state.withLockedValue {
                    $0.machine.connectFailed(id, now: now, randomUnit: Double.random(in: 0..<1))
                }
                self.logger.debug("redis connect failed", metadata: ["error": "\(error)"])
                self.execute(actions)
            }
        }
    }

    private func log(_ event: Machine.Event) {
        switch event {
        case .circuitOpened(let failures):
            logger.error("redis unreachable: circuit breaker open, failing fast", metadata: ["failures": "\(failures)"])
        case .circuitClosed:
            logger.notice("redis reachable again: circuit breaker closed")
        case .connectFailed(let failures, let retry):
            logger.warning(
                "redis connect failed",
                metadata: ["consecutive_failures": "\(failures)", "retry_in_ms": "\(retry / 1_000_000)"]
            )
        case .leakSuspected(let id, let age):
            logger.warning(
                "redis connection lease held longer than leakDetectionThreshold (possible leak)",
                metadata: ["pool.connection": "\(id)", "lease_age_ms": "\(age / 1_000_000)"]
            )
        case .idleTimeout(let id):
            logger.debug("closing idle redis connection", metadata: ["pool.connection": "\(id)"])
        case .shutdownForcedClose(let count):
            logger.warning("shutdown deadline reached: closing leased redis connections", metadata: ["count": "\(count)"])
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
