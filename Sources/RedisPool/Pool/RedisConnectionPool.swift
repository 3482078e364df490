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
/// `run()` (a ServiceLifecycle `Service`) starts that timer, prewarms `minimumConnections` and shuts the pool down
/// gracefully when the service group does. The pool serves leases as soon as it is created (connections are opened on
/// demand), but everything timed — acquire-timeout expiry, reconnecting after a backoff, idle timeout, keep-alive,
/// leak warnings, the shutdown deadline, metrics publishing — happens only while `run()` runs: run it for as long as
/// the pool is in use.
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
    let commandErrors = ManagedAtomic<Int>(0)
    let connectionLossRetries = ManagedAtomic<Int>(0)
    let commandTimeouts = ManagedAtomic<Int>(0)
    let publisher: PoolMetricsPublisher
    private let tickInterval: TimeAmount
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
        self.tickInterval = .nanoseconds(tick)
        self.ticksPerPublish = Int(max(1, configuration.metricsPublishInterval.nanosecondsClamped / tick))
        self.tickBatches = Self.makeTickBatches(eventLoopGroup)
    }

    deinit {
        self.state.withLockedValue { $0.ticker?.cancel() }
    }

    // MARK: Service

    /// Starts the pool's timer (every `tickInterval`), prewarms `minimumConnections`, then waits. On graceful shutdown
    /// it stops new leases, waits up to `shutdownGracePeriod` for leases to return and closes every connection; on task
    /// cancellation it closes at once. Returns when every connection is closed; the timer stops then.
    public func run() async throws {
        startTicker()
        defer { stopTicker() }
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
    /// connections are closed when returned or at `deadline` (enforced by the timer, so only while `run()` runs).
    /// Returns when every connection is closed.
    public func shutdown(deadline: NIODeadline) async {
        beginShutdown(deadline: deadline)
        await waitForShutdown()
    }

    /// ``shutdown(deadline:)`` with `configuration.shutdownGracePeriod`.
    public func shutdown() async {
        await shutdown(deadline: .now() + .nanoseconds(configuration.shutdownGracePeriod.nanosecondsClamped))
    }

    /// Starts the repeating tick unless it runs already or the pool is shut down.
    private func startTicker() {
        let interval = tickInterval
        state.withLockedValue { state in
            guard state.ticker == nil, !state.shutdownComplete else { return }
            state.ticker = eventLoopGroup.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) {
                [weak self] task in
                guard let self else {
                    task.cancel()
                    return
                }
                self.tick()
            }
        }
    }

    private func stopTicker() {
        let ticker = state.withLockedValue { state in
            defer { state.ticker = nil }
            return state.ticker
        }
        ticker?.cancel()
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

    // MARK: Commands

    /// Leases a connection for `body` and gives it back when `body` returns or throws. With no idle connection the
    /// task waits in the queue (failing with `acquireTimeout`, or with `CancellationError` when the task is
    /// cancelled). Errors thrown by `body` are rethrown unchanged. Do not keep the connection after `body` returns.
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
    /// An `idempotent` command (a read such as `GET`, or a write that may safely run twice) is retried on another
    /// connection, up to `connectionLossRetries` times and after `connectionLossRetryDelay` (doubling), when its
    /// connection closed before the reply arrived. Each retry is counted in ``PoolMetrics/connectionLossRetries``.
    /// Default `false`: no retry.
    ///
    /// The command never waits for a thread while holding a connection: the lease ends on the connection's event loop
    /// the moment the reply arrives, and a command queued for a connection is written by the event loop that releases
    /// it (not by a task that would first have to be scheduled). A queued command leaves the queue by acquire timeout
    /// or when its task is cancelled.
    @discardableResult
    public func command(_ arguments: [String], idempotent: Bool = false) async throws -> RedisReply {
        var retries = idempotent ? configuration.connectionLossRetries : 0
        var pause = configuration.connectionLossRetryDelay
        let reply: RedisReply
        while true {
            do {
                reply = try await cancellable { slot in
                    self.withLease(slot: slot) { self.send(arguments, on: $0) }
                }
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
        let sent = pipelined(arguments)
        // One promise for the outcome (not a chain of flatMaps): each future costs an allocation on the hot path.
        let outcome = sent.eventLoop.makePromise(of: RedisReply.self)
        sent.whenComplete { result in
            switch result {
            case .success(.error(let message)):
                self.commandErrors.wrappingIncrement(ordering: .relaxed)
                outcome.fail(RedisServerError(message: message))
            case .success(let reply):
                outcome.succeed(reply)
            case .failure(let error):
                guard retries > 0, let lost = error as? RedisConnectionError, lost.code == .connectionClosed else {
                    outcome.fail(error)
                    return
                }
                self.connectionLossRetries.wrappingIncrement(ordering: .relaxed)
                sent.eventLoop.flatScheduleTask(in: TimeAmount(pause)) {
                    self.command(arguments, retries: retries - 1, pause: pause * 2)
                }.futureResult.cascade(to: outcome)
            }
        }
        return outcome.futureResult
    }

    /// Sends several commands in one write on one pooled connection; replies in order, error replies as `.error`
    /// (not thrown). Leased, queued and cancelled like ``command(_:idempotent:)``; never retried.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await cancellable { slot in
            self.withLease(slot: slot) { lease in self.releasing(lease, lease.connection.sendPipeline(commands)) }
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

    func execute(_ actions: Machine.Actions) {
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
