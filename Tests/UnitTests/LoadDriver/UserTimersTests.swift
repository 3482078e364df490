import Testing
import LoadDriver

@Suite("The users' timers of one loop")
struct UserTimersTests {
    @Test func dueWakeUpsComeOutEarliestFirstAndTheRestStay() {
        var timers = UserTimers()
        timers.schedule(user: 3, at: 300)
        timers.schedule(user: 1, at: 100)
        timers.schedule(user: 2, at: 200)
        timers.schedule(user: 0, at: 100)
        #expect(timers.earliest == 100)
        var due: [Int32] = []
        timers.popDue(now: 200, into: &due)
        // Equal deadlines keep the order of their users, so a run is reproducible.
        #expect(due == [0, 1, 2])
        #expect(timers.earliest == 300 && timers.count == 1)
        due.removeAll()
        timers.popDue(now: 299, into: &due)
        #expect(due.isEmpty)
        timers.removeAll()
        #expect(timers.earliest == nil)
    }

    @Test func aUserMayWaitTwiceAndBothWakeUpsCount() {
        var timers = UserTimers()
        timers.schedule(user: 7, at: 50)
        timers.schedule(user: 7, at: 10)
        var due: [Int32] = []
        timers.popDue(now: .max, into: &due)
        #expect(due == [7, 7])
    }
}
