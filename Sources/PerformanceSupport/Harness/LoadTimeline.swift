import LoadDriver
import Synchronization

/// A scenario's load-phase clock, shared by the harness and the code that injects faults: when second 0 of the
/// result's time series starts, and the marks (faults injected, cleared, observed) that go into the result's
/// `events` on that same clock. Times a fault exactly where the per-second series will show it.
public final class LoadTimeline: Sendable {
    private struct Mark {
        var name: String
        var detail: String?
        var at: ContinuousClock.Instant
    }

    private struct State {
        var secondZero: ContinuousClock.Instant?
        var marks: [Mark] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Called by the harness from the driver's `onLoadStart`.
    package func loadStarting(in delay: Duration) {
        let at = ContinuousClock.now + delay
        self.state.withLock { $0.secondZero = at }
    }

    /// Second 0 of the load phase; waits until the driver has started its users and the load begins.
    public func secondZero() async throws -> ContinuousClock.Instant {
        while true {
            if let at = self.state.withLock({ $0.secondZero }) { return at }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Sleeps until load second `second` (fractions allowed).
    public func sleep(untilSecond second: Double) async throws {
        let zero = try await self.secondZero()
        try await Task.sleep(until: zero + .seconds(second))
    }

    /// The current load second (negative before the load starts, `nil` before the driver announced it).
    public func now() -> Double? {
        self.state.withLock { $0.secondZero }.map { Self.seconds(ContinuousClock.now - $0) }
    }

    /// Records `name` now and returns the current load second (0 while the driver has not announced second 0 yet;
    /// the event itself gets its true, negative second once it is known).
    @discardableResult
    public func mark(_ name: String, detail: String? = nil) -> Double {
        let now = ContinuousClock.now
        return self.state.withLock { state in
            state.marks.append(Mark(name: name, detail: detail, at: now))
            return state.secondZero.map { Self.seconds(now - $0) } ?? 0
        }
    }

    /// Everything marked so far, in order, in load seconds (negative before the load began; relative to the first
    /// mark if the load never started).
    public var events: [RunEvent] {
        self.state.withLock { state in
            guard let zero = state.secondZero ?? state.marks.first?.at else { return [] }
            return state.marks.map {
                RunEvent(name: $0.name, atSeconds: (Self.seconds($0.at - zero) * 1000).rounded() / 1000, detail: $0.detail)
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        d / .seconds(1)
    }
}
