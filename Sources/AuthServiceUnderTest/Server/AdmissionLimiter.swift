import DequeModule
import NIOCore
import Synchronization

/// Admission before the pool: at most ``maximumConcurrent`` requests run their handlers at once; the others wait in
/// arrival order, at most ``maximumQueued`` of them, and a request beyond that is answered 503 at once.
///
/// On a machine whose CPU is saturated, a handler that holds a pool connection also waits for a thread, so without a
/// limit the pool becomes the queue: every lease lasts as long as the CPU backlog. With the limit the backlog waits
/// here, where a waiting request costs a suspended task and no connection, and ``AdmissionMetrics`` show where it
/// formed.
package final class AdmissionLimiter: Sendable {
    package let maximumConcurrent: Int
    package let maximumQueued: Int

    private struct Waiter {
        var id: UInt64
        var enqueuedAt: ContinuousClock.Instant
        /// Called once, outside the lock: `.success` when admitted, `.failure` when removed from the queue.
        var resume: @Sendable (Result<Void, any Error>) -> Void
    }

    private struct State {
        var running = 0
        var queue: Deque<Waiter> = []
        var nextID: UInt64 = 0
        var metrics = AdmissionMetrics()
    }

    private let state = Mutex(State())

    package init(maximumConcurrent: Int, maximumQueued: Int) {
        self.maximumConcurrent = max(1, maximumConcurrent)
        self.maximumQueued = max(0, maximumQueued)
    }

    /// Runs `body` on `eventLoop` once admitted and frees the slot when its future completes. The future fails with
    /// ``AdmissionRejected`` when the queue is full. No task is involved: the HTTP handlers call this.
    package func withAdmission<T: Sendable>(
        on eventLoop: any EventLoop,
        _ body: @escaping @Sendable () -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let admitted = self.state.withLock { self.tryAdmit(&$0) }
        if admitted { return self.running(body) }
        let promise = eventLoop.makePromise(of: T.self)
        self.enqueue { result in
            switch result {
            case .success:
                if eventLoop.inEventLoop {
                    self.running(body).cascade(to: promise)
                } else {
                    eventLoop.execute { self.running(body).cascade(to: promise) }
                }
            case .failure(let error):
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// Takes a slot when one is free and nobody waits; the caller must ``leave()`` once its work completes. The
    /// HTTP handler's fast path: no closure and no extra callback on the request's future.
    package func admitNow() -> Bool {
        self.state.withLock { self.tryAdmit(&$0) }
    }

    private func running<T>(_ body: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let future = body()
        future.whenComplete { _ in self.leave() }
        return future
    }

    /// Runs `body` once admitted. Throws ``AdmissionRejected`` when the queue is full, `CancellationError` when the
    /// task is cancelled while it waits.
    package func withAdmission<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await self.admit()
        defer { self.leave() }
        return try await body()
    }

    /// Takes a slot now when one is free and nobody waits (under the lock).
    private func tryAdmit(_ state: inout State) -> Bool {
        guard state.running < self.maximumConcurrent, state.queue.isEmpty else { return false }
        state.running += 1
        state.metrics.admitted += 1
        state.metrics.peakRunning = max(state.metrics.peakRunning, state.running)
        return true
    }

    /// Admits or queues `resume` (decided under one lock, so a slot freed meanwhile is not missed) and returns the
    /// waiter's id, or `nil` when `resume` was already called.
    @discardableResult
    private func enqueue(
        cancelled: () -> Bool = { false },
        _ resume: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) -> UInt64? {
        enum Decision { case admitted, queued(UInt64), rejected(Int), cancelled }
        let decision = self.state.withLock { state -> Decision in
            if cancelled() { return .cancelled }
            if self.tryAdmit(&state) { return .admitted }
            guard state.queue.count < self.maximumQueued else {
                state.metrics.rejected += 1
                return .rejected(state.queue.count)
            }
            state.nextID += 1
            state.queue.append(Waiter(id: state.nextID, enqueuedAt: .now, resume: resume))
            state.metrics.peakQueued = max(state.metrics.peakQueued, state.queue.count)
            return .queued(state.nextID)
        }
        switch decision {
        case .admitted: resume(.success(()))
        case .queued(let id): return id
        case .rejected(let queued): resume(.failure(AdmissionRejected(queued: queued)))
        case .cancelled: resume(.failure(CancellationError()))
        }
        return nil
    }

    private func admit() async throws {
        if self.state.withLock({ self.tryAdmit(&$0) }) { return }
        // The waiter's id once queued, and whether the task was cancelled: whichever of the two comes second removes
        // the waiter.
        let slot = Mutex<(id: UInt64?, cancelled: Bool)>((nil, false))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard let queued = self.enqueue(cancelled: { Task.isCancelled }, { continuation.resume(with: $0) }) else {
                    return
                }
                let cancelled = slot.withLock { slot in
                    slot.id = queued
                    return slot.cancelled
                }
                if cancelled { self.cancelWaiter(queued) }
            }
        } onCancel: {
            let queued = slot.withLock { slot in
                slot.cancelled = true
                return slot.id
            }
            if let queued { self.cancelWaiter(queued) }
        }
    }

    /// Removes a queued waiter (if it is still queued) and fails it with `CancellationError`.
    private func cancelWaiter(_ id: UInt64) {
        let waiter = self.state.withLock { state -> Waiter? in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
            return state.queue.remove(at: index)
        }
        waiter?.resume(.failure(CancellationError()))
    }

    /// A running request finished: the slot passes to the longest-waiting request, if any.
    /// Frees a slot taken by ``admitNow()`` (or passes it to the first waiter).
    package func leave() {
        let now = ContinuousClock.now
        let next = self.state.withLock { state -> Waiter? in
            if let waiter = state.queue.popFirst() {
                state.metrics.admitted += 1
                state.metrics.queued += 1
                state.metrics.recordWait(now - waiter.enqueuedAt)
                return waiter  // `running` stays: the slot passes on
            }
            state.running -= 1
            return nil
        }
        next?.resume(.success(()))
    }

    /// The limiter's counters and levels now.
    package func metrics() -> AdmissionMetrics {
        self.state.withLock { state in
            var metrics = state.metrics
            metrics.running = state.running
            metrics.waiting = state.queue.count
            metrics.maximumConcurrent = self.maximumConcurrent
            metrics.maximumQueued = self.maximumQueued
            return metrics
        }
    }
}

/// A request turned away because the admission queue was full (answered 503 with `Retry-After`).
package struct AdmissionRejected: Error, Sendable, CustomStringConvertible {
    package var queued: Int
    package init(queued: Int) { self.queued = queued }
    package var description: String { "admission queue full (\(queued) requests waiting)" }
}

/// What ``AdmissionLimiter`` reports (in `/health/redis` under `admission`): where an overload queued.
package struct AdmissionMetrics: Sendable, Codable, Equatable {
    /// The configured limits.
    package var maximumConcurrent = 0
    package var maximumQueued = 0
    /// Requests running their handlers now, and the most at once.
    package var running = 0
    package var peakRunning = 0
    /// Requests waiting for admission now, and the most at once.
    package var waiting = 0
    package var peakQueued = 0
    /// Requests admitted in total, of them `queued` after waiting; `rejected` turned away with 503.
    package var admitted = 0
    package var queued = 0
    package var rejected = 0
    /// Time the queued requests waited: total and longest, in milliseconds.
    package var waitMsTotal = 0.0
    package var waitMsMax = 0.0

    mutating func recordWait(_ duration: Duration) {
        let ms = duration / .milliseconds(1)
        self.waitMsTotal += ms
        self.waitMsMax = max(self.waitMsMax, ms)
    }
}
