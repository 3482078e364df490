import DequeModule
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
        var continuation: CheckedContinuation<Void, any Error>
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

    /// Runs `body` once admitted. Throws ``AdmissionRejected`` when the queue is full, `CancellationError` when the
    /// task is cancelled while it waits.
    package func withAdmission<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await self.admit()
        defer { self.leave() }
        return try await body()
    }

    private enum Decision {
        case admitted
        case queued
        case rejected(Int)
        case cancelled
    }

    /// Takes a slot now when one is free and nobody waits (under the lock).
    private func tryAdmit(_ state: inout State) -> Bool {
        guard state.running < self.maximumConcurrent, state.queue.isEmpty else { return false }
        state.running += 1
        state.metrics.admitted += 1
        state.metrics.peakRunning = max(state.metrics.peakRunning, state.running)
        return true
    }

    private func admit() async throws {
        // Fast path: no continuation when a slot is free.
        let id: UInt64? = self.state.withLock { state in
            if self.tryAdmit(&state) { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        let start = ContinuousClock.now
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided again under the same lock that enqueues: a slot freed since the fast path is not missed.
                let decision = self.state.withLock { state -> Decision in
                    if Task.isCancelled { return .cancelled }
                    if self.tryAdmit(&state) { return .admitted }
                    guard state.queue.count < self.maximumQueued else {
                        state.metrics.rejected += 1
                        return .rejected(state.queue.count)
                    }
                    state.queue.append(Waiter(id: id, continuation: continuation))
                    state.metrics.peakQueued = max(state.metrics.peakQueued, state.queue.count)
                    return .queued
                }
                switch decision {
                case .admitted: continuation.resume()
                case .queued: break
                case .rejected(let queued): continuation.resume(throwing: AdmissionRejected(queued: queued))
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        let waited = ContinuousClock.now - start
        self.state.withLock { $0.metrics.recordWait(waited) }
    }

    /// A running request finished: the slot passes to the longest-waiting request, if any.
    private func leave() {
        let next = self.state.withLock { state -> Waiter? in
            if let waiter = state.queue.popFirst() {
                state.metrics.admitted += 1
                state.metrics.queued += 1
                return waiter  // `running` stays: the slot passes on
            }
            state.running -= 1
            return nil
        }
        next?.continuation.resume()
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
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        self.waitMsTotal += ms
        self.waitMsMax = max(self.waitMsMax, ms)
    }
}
