import Foundation

/// Pure timetable math: when each arrival of an open load model is *intended* to be sent.
///
/// The total rate r(t) is piecewise linear (constant for paced users and constant arrival rate). Global arrival `k`
/// (0-based) is intended at the time t where the cumulative arrivals A(t) = ∫r equal k. Arrival `k` belongs to user
/// `k mod users`, so user `i`'s `n`-th slot is global arrival `n * users + i`. For a constant rate R this gives each
/// user a fixed interval `users / R` and spreads users' phases evenly over that interval.
public struct ArrivalSchedule: Sendable, Equatable {
    struct Segment: Sendable, Equatable {
        var start: Double  // seconds
        var duration: Double  // seconds, .infinity for the tail
        var startRate: Double
        var endRate: Double
        var cumulativeAtStart: Double
    }

    let segments: [Segment]
    /// Number of users the arrivals are distributed over.
    public let users: Int

    /// Builds the schedule; closed loop yields a schedule with no arrivals.
    public init(model: LoadModel, users: Int) {
        self.users = max(1, users)
        switch model {
        case .pacedUsers(let ratePerUser), .concurrentUsers(let ratePerUser):
            let r = ratePerUser * Double(self.users)
            self.segments = [Segment(start: 0, duration: .infinity, startRate: r, endRate: r, cumulativeAtStart: 0)]
        case .constantArrivalRate(let r):
            self.segments = [Segment(start: 0, duration: .infinity, startRate: r, endRate: r, cumulativeAtStart: 0)]
        case .rampingArrivalRate(let startRate, let stages):
            var segments: [Segment] = []
            var t = 0.0
            var rate = startRate
            var cumulative = 0.0
            for stage in stages where stage.durationSeconds > 0 {
                let s = Segment(
                    start: t, duration: stage.durationSeconds, startRate: rate, endRate: stage.targetRate,
                    cumulativeAtStart: cumulative)
                segments.append(s)
                cumulative += (rate + stage.targetRate) / 2 * stage.durationSeconds
                t += stage.durationSeconds
                rate = stage.targetRate
            }
            segments.append(Segment(start: t, duration: .infinity, startRate: rate, endRate: rate, cumulativeAtStart: cumulative))
            self.segments = segments
        case .closedLoop:
            self.segments = []
        }
    }

    /// Instantaneous total rate at `t` seconds.
    public func rate(at t: Double) -> Double {
        guard let seg = self.segments.last(where: { $0.start <= t }) else { return 0 }
        if seg.duration == .infinity { return seg.startRate }
        let f = min(max((t - seg.start) / seg.duration, 0), 1)
        return seg.startRate + (seg.endRate - seg.startRate) * f
    }

    /// Cumulative intended arrivals A(t) in [0, t].
    public func cumulativeArrivals(at t: Double) -> Double {
        guard t > 0, let seg = self.segments.last(where: { $0.start <= t }) else { return 0 }
        let dt = t - seg.start
        if seg.duration == .infinity { return seg.cumulativeAtStart + seg.startRate * dt }
        let slope = (seg.endRate - seg.startRate) / seg.duration
        return seg.cumulativeAtStart + seg.startRate * dt + slope * dt * dt / 2
    }

    /// Average intended rate over [from, to).
    public func averageRate(from: Double, to: Double) -> Double {
        guard to > from else { return 0 }
        return (self.cumulativeArrivals(at: to) - self.cumulativeArrivals(at: from)) / (to - from)
    }

    /// Intended time (seconds from load start) of global arrival `k`; `nil` when the rate never reaches it.
    public func timeOfArrival(_ k: Int) -> Double? {
        let target = Double(k)
        guard let seg = self.segments.last(where: { $0.cumulativeAtStart <= target }) else { return nil }
        let need = target - seg.cumulativeAtStart
        if need == 0 { return seg.start }
        if seg.duration == .infinity {
            guard seg.startRate > 0 else { return nil }
            return seg.start + need / seg.startRate
        }
        // Solve r0*dt + (slope/2)*dt^2 = need for dt in [0, duration].
        let r0 = seg.startRate
        let slope = (seg.endRate - seg.startRate) / seg.duration
        let dt: Double
        if abs(slope) < 1e-12 {
            guard r0 > 0 else { return nil }
            dt = need / r0
        } else {
            let disc = r0 * r0 + 2 * slope * need
            guard disc >= 0 else { return nil }
            dt = (-r0 + disc.squareRoot()) / slope
        }
        return seg.start + min(max(dt, 0), seg.duration)
    }

    /// Intended time of user `user`'s `slot`-th arrival (both 0-based).
    public func timeOfSlot(_ slot: Int, user: Int) -> Double? {
        self.timeOfArrival(slot * self.users + user)
    }

    /// The same in integer nanoseconds from load start.
    public func nanosecondsOfSlot(_ slot: Int, user: Int) -> Int64? {
        guard let t = self.timeOfSlot(slot, user: user), t.isFinite, t < 1e9 else { return nil }
        return Int64((t * 1e9).rounded())
    }
}

/// Pure per-user coordinated-omission bookkeeping for open models (wrk2 semantics plus k6-style accounting).
///
/// Slots become *due* at their intended time. A due slot is sent as soon as the user's connection is free, and its
/// latency is always measured from the slot's intended time (so queueing behind a slow response is charged to the
/// latency, never hidden). Rule for `late` and `dropped`:
/// - a slot is **late** when it is sent after its successor slot was already due, i.e. more than one full interval
///   after its intended time (what k6 would have counted as a dropped iteration);
/// - a slot is **dropped** when it was due but never sent because the run ended (end of the measured window,
///   request budget exhausted, or the hard cap) while the user was still busy.
public struct SlotTracker: Sendable, Equatable {
    /// Index of the next slot that will become due.
    public private(set) var nextDue: Int = 0
    /// Index of the next slot to send (all slots below it were sent).
    public private(set) var nextToSend: Int = 0
    /// Whether a request is in flight on the connection.
    public private(set) var busy: Bool = false
    /// Whether slots missed while the connection was busy are skipped (``LoadModel/concurrentUsers(ratePerUser:)``):
    /// a free connection then sends only the latest due slot.
    public let skipsMissedSlots: Bool
    /// Slots skipped so far.
    public private(set) var skipped: Int = 0

    public init(skipsMissedSlots: Bool = false) {
        self.skipsMissedSlots = skipsMissedSlots
    }

    /// Slots that are due but not yet sent.
    public var backlog: Int { self.nextDue - self.nextToSend }

    /// What the user should do now.
    public enum Action: Sendable, Equatable {
        /// Nothing to send (idle with no backlog, or busy).
        case wait
        /// Send slot `slot`; `late` per the rule above; `onTime` when sent right when it became due (the delay between
        /// intended time and now is then pure scheduling lag of the driver).
        case send(slot: Int, late: Bool, onTime: Bool)
    }

    /// The timer for slot `nextDue` fired.
    public mutating func slotBecameDue() -> Action {
        self.nextDue += 1
        return self.takeNext(onTime: true)
    }

    /// The in-flight request completed (success or failure) and the connection can take the next one.
    public mutating func connectionBecameFree() -> Action {
        self.busy = false
        return self.takeNext(onTime: false)
    }

    /// The connection is unusable (reconnecting): nothing is sent until `connectionBecameFree`.
    public mutating func connectionUnavailable() {
        self.busy = true
    }

    /// Takes one due slot without sending it (used to charge a failed connect to a waiting request).
    public mutating func consumeDueSlot() -> Int? {
        guard self.nextToSend < self.nextDue else { return nil }
        defer { self.nextToSend += 1 }
        return self.nextToSend
    }

    /// Marks the remaining backlog as dropped (run over) and returns how many slots that was.
    public mutating func dropBacklog() -> Int {
        let n = self.backlog
        self.nextToSend = self.nextDue
        return n
    }

    private mutating func takeNext(onTime: Bool) -> Action {
        guard !self.busy, self.nextToSend < self.nextDue else { return .wait }
        if self.skipsMissedSlots, self.nextDue - self.nextToSend > 1 {
            self.skipped += self.nextDue - 1 - self.nextToSend
            self.nextToSend = self.nextDue - 1
        }
        let slot = self.nextToSend
        self.nextToSend += 1
        self.busy = true
        let late = self.nextDue > slot + 1
        return .send(slot: slot, late: late, onTime: onTime && slot == self.nextDue - 1)
    }
}
