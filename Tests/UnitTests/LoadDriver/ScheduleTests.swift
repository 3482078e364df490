import LoadDriver
import Testing

@Suite("LoadDriver timetable and coordinated omission")
struct ScheduleTests {
    @Test func pacedUsersHaveFixedIntervalsAndSpreadPhases() throws {
        let s = ArrivalSchedule(model: .pacedUsers(ratePerUser: 10), users: 4)
        // User i's slot n is at n * 100 ms + i * 25 ms.
        for user in 0..<4 {
            for slot in 0..<5 {
                let t = try #require(s.timeOfSlot(slot, user: user))
                #expect(abs(t - (Double(slot) * 0.1 + Double(user) * 0.025)) < 1e-9)
            }
        }
        #expect(s.rate(at: 3) == 40)
        #expect(abs(s.averageRate(from: 0, to: 10) - 40) < 1e-9)
        #expect(s.nanosecondsOfSlot(1, user: 1) == 125_000_000)
    }

    @Test func constantArrivalRateIsRoundRobin() throws {
        let s = ArrivalSchedule(model: .constantArrivalRate(ratePerSecond: 1_000), users: 10)
        #expect(s.timeOfArrival(0) == 0)
        #expect(abs(try #require(s.timeOfArrival(1_000)) - 1) < 1e-9)
        // Each user gets every 10th arrival: interval 10 ms.
        #expect(abs(try #require(s.timeOfSlot(3, user: 7)) - 0.037) < 1e-9)
    }

    @Test func rampingArrivalRateInvertsTheCumulativeRate() throws {
        // 0 → 100 req/s over 10 s, then 100 req/s for 10 s.
        let s = ArrivalSchedule(model: .rampingArrivalRate(startRate: 0, stages: [.init(durationSeconds: 10, targetRate: 100), .init(durationSeconds: 10, targetRate: 100)]), users: 1)
        // A(t) = 5 t^2 during the ramp: arrival 125 at t = 5 s; A(10) = 500; then 100/s.
        #expect(abs(try #require(s.timeOfArrival(125)) - 5) < 1e-9)
        #expect(abs(try #require(s.timeOfArrival(500)) - 10) < 1e-9)
        #expect(abs(try #require(s.timeOfArrival(1_500)) - 20) < 1e-9)
        #expect(abs(s.cumulativeArrivals(at: 5) - 125) < 1e-9)
        #expect(abs(s.rate(at: 5) - 50) < 1e-9)
        #expect(abs(s.averageRate(from: 0, to: 10) - 50) < 1e-9)
        // Times are increasing.
        var last = -1.0
        for k in stride(from: 0, to: 2_000, by: 7) {
            let t = try #require(s.timeOfArrival(k))
            #expect(t > last)
            last = t
        }
        let down = ArrivalSchedule(model: .rampingArrivalRate(startRate: 100, stages: [.init(durationSeconds: 10, targetRate: 0)]), users: 1)
        #expect(down.timeOfArrival(499) != nil)
        #expect(down.timeOfArrival(501) == nil)  // the rate reached 0 after 500 arrivals
    }

    @Test func pacedSendsAreReleasedAtTheEndOfTheirTimerTick() {
        let ms: Int64 = 1_000_000
        // Exact times with resolution 0, and for values already on the grid.
        #expect(timerReleaseTime(forIntended: 1_234_567, resolution: 0) == 1_234_567)
        #expect(timerReleaseTime(forIntended: 5 * ms, resolution: ms) == 5 * ms)
        // Anything inside a tick goes out at the tick's end: never early, at most one tick late.
        #expect(timerReleaseTime(forIntended: 5 * ms + 1, resolution: ms) == 6 * ms)
        #expect(timerReleaseTime(forIntended: 6 * ms - 1, resolution: ms) == 6 * ms)
        for intended in stride(from: Int64(1), to: 20 * ms, by: 77_777) {
            let release = timerReleaseTime(forIntended: intended, resolution: 2 * ms)
            #expect(release >= intended && release - intended < 2 * ms && release % (2 * ms) == 0)
        }
    }

    @Test func closedLoopHasNoTimetable() {
        let s = ArrivalSchedule(model: .closedLoop(thinkTimeSeconds: 0), users: 3)
        #expect(s.timeOfArrival(0) == nil)
    }

    @Test func slotTrackerSendsOnTimeWhenIdle() {
        var t = SlotTracker()
        #expect(t.connectionBecameFree() == .wait)
        #expect(t.slotBecameDue() == .send(slot: 0, late: false, onTime: true))
        #expect(t.connectionBecameFree() == .wait)
        #expect(t.slotBecameDue() == .send(slot: 1, late: false, onTime: true))
    }

    @Test func slotTrackerQueuesBehindABusyConnectionAndCountsLate() {
        var t = SlotTracker()
        _ = t.connectionBecameFree()
        #expect(t.slotBecameDue() == .send(slot: 0, late: false, onTime: true))
        #expect(t.slotBecameDue() == .wait)  // slot 1 due while 0 in flight
        #expect(t.backlog == 1)
        // Freed before slot 2: slot 1 is sent late-ish but within one interval: not "late".
        #expect(t.connectionBecameFree() == .send(slot: 1, late: false, onTime: false))
        #expect(t.slotBecameDue() == .wait)  // slot 2
        #expect(t.slotBecameDue() == .wait)  // slot 3: slot 2 is now more than one interval late
        #expect(t.connectionBecameFree() == .send(slot: 2, late: true, onTime: false))
        #expect(t.connectionBecameFree() == .send(slot: 3, late: false, onTime: false))
        #expect(t.slotBecameDue() == .wait)
        #expect(t.slotBecameDue() == .wait)
        #expect(t.dropBacklog() == 2)
        #expect(t.backlog == 0)
    }

    @Test func slotTrackerForConcurrentUsersSkipsMissedSlots() {
        var t = SlotTracker(skipsMissedSlots: true)
        _ = t.connectionBecameFree()
        #expect(t.slotBecameDue() == .send(slot: 0, late: false, onTime: true))
        #expect(t.slotBecameDue() == .wait)  // slot 1 due while 0 in flight
        #expect(t.connectionBecameFree() == .send(slot: 1, late: false, onTime: false))  // the answer came after slot 1
        #expect(t.slotBecameDue() == .wait)  // slots 2, 3, 4 due while 1 in flight
        #expect(t.slotBecameDue() == .wait)
        #expect(t.slotBecameDue() == .wait)
        #expect(t.connectionBecameFree() == .send(slot: 4, late: false, onTime: false))  // at once, the latest slot
        #expect(t.skipped == 2)
        #expect(t.backlog == 0)
        #expect(t.connectionBecameFree() == .wait)
        #expect(t.slotBecameDue() == .send(slot: 5, late: false, onTime: true))
    }

    /// The seed's concurrent users on the fake clock: after a 500 ms stall (slot 10, t = 1.0 to 1.5 s) the user sends
    /// at once for the latest due slot (14, due at 1.4 s) and skips 11...13; that request waited 20 ms (service) and
    /// its latency from its slot is 120 ms (the 100 ms schedule lag included).
    @Test func concurrentUsersSkipInsteadOfQueueingWithAFakeClock() throws {
        let schedule = ArrivalSchedule(model: .concurrentUsers(ratePerUser: 10), users: 1)
        let sim = CoordinatedOmissionSimulation(schedule: schedule, slots: 30, skipsMissedSlots: true) { index in
            index == 10 ? 0.5 : 0.02
        }
        let r = sim.run()
        #expect(r.map(\.slot) == Array(0...10) + Array(14..<30))
        let afterStall = try #require(r.first { $0.slot == 14 })
        #expect(abs(afterStall.sent - 1.5) < 1e-9, "sent at once when the answer came (t = 1.5 s)")
        #expect(abs(afterStall.service - 0.02) < 1e-9 && abs(afterStall.corrected - 0.12) < 1e-9)
        #expect(r.filter { $0.service > 0.05 }.map(\.slot) == [10])
        #expect(r.filter { $0.slot > 15 }.allSatisfy { abs($0.corrected - 0.02) < 1e-9 })  // 15 waited for 14
        #expect(sim.lateCount(r) == 0)
    }

    /// Simulates one paced user against a server with a fixed 20 ms service time and one 500 ms stall, with a fake
    /// clock: the stall appears in the corrected latency of the requests queued behind it, not in their service time.
    @Test func coordinatedOmissionCorrectionWithAFakeClock() throws {
        let schedule = ArrivalSchedule(model: .pacedUsers(ratePerUser: 10), users: 1)
        let sim = CoordinatedOmissionSimulation(schedule: schedule, slots: 30) { index in index == 10 ? 0.5 : 0.02 }
        let r = sim.run()
        #expect(r.count == 30)
        // The stalled request (slot 10 at t = 1.0 s) itself: 500 ms both ways.
        #expect(abs(r[10].corrected - 0.5) < 1e-9 && abs(r[10].service - 0.5) < 1e-9)
        // Slots 11...15 waited for it: corrected 420, 340, 260, 180, 100 ms, service 20 ms each.
        let expected = [0.42, 0.34, 0.26, 0.18, 0.10]
        for (i, e) in expected.enumerated() {
            #expect(abs(r[11 + i].corrected - e) < 1e-9, "slot \(11 + i): \(r[11 + i].corrected)")
            #expect(abs(r[11 + i].service - 0.02) < 1e-9)
        }
        // Slot 16 is on time again.
        #expect(abs(r[16].corrected - 0.02) < 1e-9)
        #expect(sim.lateCount(r) == 4)  // 11...14 were sent after their successor was due
        // What an uncorrected (closed-loop style) measurement would report: only one slow request.
        #expect(r.filter { $0.service > 0.05 }.count == 1)
        #expect(r.filter { $0.corrected > 0.05 }.count == 6)
    }
}

/// Event-driven simulation of one user's SlotTracker on a fake clock.
struct CoordinatedOmissionSimulation {
    struct Sample {
        var slot: Int
        var intended: Double
        var sent: Double
        var done: Double
        var late: Bool
        var corrected: Double { self.done - self.intended }
        var service: Double { self.done - self.sent }
    }

    let schedule: ArrivalSchedule
    let slots: Int
    var skipsMissedSlots = false
    let serviceTime: (Int) -> Double

    func run() -> [Sample] {
        var tracker = SlotTracker(skipsMissedSlots: self.skipsMissedSlots)
        _ = tracker.connectionBecameFree()
        var samples: [Sample] = []
        var inFlight: (slot: Int, sent: Double, late: Bool, done: Double)? = nil
        var nextSlot = 0
        var requestIndex = 0
        func start(_ action: SlotTracker.Action, at now: Double) {
            guard case .send(let slot, let late, _) = action else { return }
            inFlight = (slot, now, late, now + self.serviceTime(requestIndex))
            requestIndex += 1
        }
        while true {
            let nextDue = nextSlot < self.slots ? self.schedule.timeOfSlot(nextSlot, user: 0)! : .infinity
            if let f = inFlight, f.done <= nextDue {
                samples.append(Sample(slot: f.slot, intended: self.schedule.timeOfSlot(f.slot, user: 0)!, sent: f.sent, done: f.done, late: f.late))
                inFlight = nil
                start(tracker.connectionBecameFree(), at: f.done)
            } else if nextSlot < self.slots {
                nextSlot += 1
                start(tracker.slotBecameDue(), at: nextDue)
            } else {
                break
            }
        }
        return samples.sorted { $0.slot < $1.slot }
    }

    func lateCount(_ samples: [Sample]) -> Int { samples.filter(\.late).count }
}
