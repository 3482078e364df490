import AuthServiceUnderTest
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// The admission limiter on its own: slots, FIFO hand-over, rejection when the queue is full, cancellation.
@Suite("Admission limiter")
struct AdmissionLimiterTests {
    /// A gate a test opens by hand, so a request can be held inside its handler.
    final class Gate: Sendable {
        private let opened = Mutex<[CheckedContinuation<Void, Never>]?>([])
        func wait() async {
            await withCheckedContinuation { continuation in
                let resumeNow = self.opened.withLock { waiters -> Bool in
                    guard waiters != nil else { return true }
                    waiters!.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        func open() {
            let waiters = self.opened.withLock { waiters in
                defer { waiters = nil }
                return waiters ?? []
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// The order in which handlers ran.
    final class Order: Sendable {
        private let ids = Mutex<[Int]>([])
        func append(_ id: Int) { self.ids.withLock { $0.append(id) } }
        var all: [Int] { self.ids.withLock { $0 } }
    }

    /// Polls until `condition` holds (bounded: 5 s).
    func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not reached within 5 s")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func admitsUpToTheLimitQueuesTheRestInOrderAndRejectsBeyondTheQueue() async throws {
        let limiter = AdmissionLimiter(maximumConcurrent: 2, maximumQueued: 2)
        let gate = Gate()
        let order = Order()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<2 {
                group.addTask {
                    try await limiter.withAdmission {
                        order.append(id)
                        await gate.wait()
                    }
                }
            }
            try await self.eventually { limiter.metrics().running == 2 }
            for id in 2..<4 {
                group.addTask {
                    try await limiter.withAdmission { order.append(id) }
                }
                try await self.eventually { limiter.metrics().waiting == id - 1 }
            }
            // The queue is full: the fifth is turned away at once.
            await #expect(throws: AdmissionRejected.self) {
                try await limiter.withAdmission {}
            }
            gate.open()
            try await group.waitForAll()
        }
        let metrics = limiter.metrics()
        // 2 and 3 are admitted in that order but then run at once on two slots: only the set is observable here
        // (the order is checked on one slot in `theEventLoopPathAdmitsInArrivalOrderWithoutATask`).
        #expect(Set(order.all.suffix(2)) == [2, 3])
        #expect(metrics.running == 0 && metrics.waiting == 0)
        #expect(metrics.peakRunning == 2 && metrics.peakQueued == 2)
        #expect(metrics.admitted == 4 && metrics.queued == 2 && metrics.rejected == 1)
        #expect(metrics.maximumConcurrent == 2 && metrics.maximumQueued == 2)
    }

    @Test func aCancelledWaiterLeavesTheQueueAndHoldsNoSlot() async throws {
        let limiter = AdmissionLimiter(maximumConcurrent: 1, maximumQueued: 4)
        let gate = Gate()
        let holder = Task { try await limiter.withAdmission { await gate.wait() } }
        try await self.eventually { limiter.metrics().running == 1 }
        let waiter = Task { try await limiter.withAdmission { Issue.record("a cancelled waiter ran") } }
        try await self.eventually { limiter.metrics().waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.metrics().waiting == 0)
        gate.open()
        try await holder.value
        // The slot came back: the next request is admitted without waiting.
        try await limiter.withAdmission {}
        let metrics = limiter.metrics()
        #expect(metrics.running == 0 && metrics.admitted == 2 && metrics.queued == 0)
    }

    /// The path the HTTP handlers use: futures on an event loop, FIFO hand-over, rejection beyond the queue.
    @Test func theEventLoopPathAdmitsInArrivalOrderWithoutATask() throws {
        let loop = EmbeddedEventLoop()
        let limiter = AdmissionLimiter(maximumConcurrent: 1, maximumQueued: 2)
        let started = Order()
        let promises = Mutex<[Int: EventLoopPromise<Int>]>([:])
        let outcomes = Mutex<[Int: Result<Int, any Error>]>([:])
        for id in 0..<4 {
            limiter.withAdmission(on: loop) {
                started.append(id)
                let promise = loop.makePromise(of: Int.self)
                promises.withLock { $0[id] = promise }
                return promise.futureResult
            }.whenComplete { result in outcomes.withLock { $0[id] = result } }
        }
        #expect(started.all == [0])
        #expect(limiter.metrics().waiting == 2)
        #expect(throws: AdmissionRejected.self) { try outcomes.withLock { $0[3] }?.get() }
        for id in 0..<3 {
            promises.withLock { $0[id] }?.succeed(id)
            loop.run()
            #expect(try outcomes.withLock { $0[id] }?.get() == id)
        }
        #expect(started.all == [0, 1, 2])
        let metrics = limiter.metrics()
        #expect(metrics.running == 0 && metrics.waiting == 0)
        #expect(metrics.admitted == 3 && metrics.queued == 2 && metrics.rejected == 1)
    }

    @Test func aThrowingHandlerGivesItsSlotBack() async throws {
        struct Failure: Error {}
        let limiter = AdmissionLimiter(maximumConcurrent: 1, maximumQueued: 0)
        await #expect(throws: Failure.self) { try await limiter.withAdmission { throw Failure() } }
        try await limiter.withAdmission {}
        #expect(limiter.metrics().running == 0)
        #expect(limiter.metrics().rejected == 0)
    }
}
