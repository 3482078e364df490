import NIOCore
import RedisPool
import Testing

/// `PoolMetrics.utilization` is a time-weighted mean over whole seconds; a fake clock drives it.
@Suite("Pool utilization (time-weighted)")
struct TimeWeightedLevelTests {
    static func at(_ milliseconds: Int) -> NIODeadline {
        .uptimeNanoseconds(5_000_000_000 + UInt64(milliseconds) * 1_000_000)
    }

    @Test func aShortBurstBarelyMovesTheMeanOfItsSecond() {
        var level = TimeWeightedLevel()
        level.set(2, at: Self.at(0))
        level.set(160, at: Self.at(500))  // a 20 ms stall with every connection leased
        level.set(2, at: Self.at(520))
        // Second [0, 1000): 2 x 980 ms + 160 x 20 ms = 5.16 connections on average.
        #expect(abs(level.mean(at: Self.at(1_100)) - 5.16) < 1e-9)
        // Until that second is over, the mean is over the time so far.
        #expect(abs(level.mean(at: Self.at(600)) - (2.0 * 580 + 160 * 20) / 600) < 1e-9)
    }

    @Test func aSustainedLevelIsReportedAsIs() {
        var level = TimeWeightedLevel()
        level.set(160, at: Self.at(0))
        #expect(level.mean(at: Self.at(1_000)) == 160)
        #expect(level.mean(at: Self.at(7_300)) == 160)
        level.set(0, at: Self.at(7_500))
        // Window [7000, 8000): 160 for 500 ms, 0 for 500 ms.
        #expect(level.mean(at: Self.at(8_000)) == 80)
        // Then whole idle windows.
        #expect(level.mean(at: Self.at(10_000)) == 0)
    }

    @Test func readingDoesNotChangeTheState() {
        var level = TimeWeightedLevel()
        level.set(10, at: Self.at(0))
        for ms in stride(from: 0, through: 3_000, by: 7) { _ = level.mean(at: Self.at(ms)) }
        level.set(20, at: Self.at(1_500))
        // Window [1000, 2000): 10 for 500 ms, 20 for 500 ms, no matter how often it was read before.
        #expect(level.mean(at: Self.at(2_000)) == 15)
    }

    @Test func outOfOrderTimesAreClamped() {
        var level = TimeWeightedLevel()
        level.set(4, at: Self.at(100))
        level.set(8, at: Self.at(99))  // read outside the lock, a microsecond "earlier"
        #expect(level.mean(at: Self.at(1_100)) == 8)
    }

    @Test func poolUtilizationIsTheMeanOverTheLastSecond() {
        typealias Machine = PoolStateMachineTests.Machine
        var machine = Machine(configuration: PoolStateMachineTests.configuration(max: 4, minConnections: 1))
        let started = machine.start(now: Self.at(0))
        _ = PoolStateMachineTests.connectAll(&machine, started.connect, at: Self.at(0))
        let (lease, _, _) = PoolStateMachineTests.request(&machine, waiter: 1, at: Self.at(0))
        guard let lease else { Issue.record("expected an immediate lease"); return }
        #expect(machine.metrics(now: Self.at(0)).inUse == 1)
        _ = machine.release(lease.id, leasedAt: lease.leasedAt, now: Self.at(250))
        // 1 of 4 connections for 250 ms of the first second: 6.25%, though inUse is 0 now.
        let metrics = machine.metrics(now: Self.at(1_000))
        #expect(metrics.inUse == 0)
        #expect(abs(metrics.utilization - 0.0625) < 1e-9)
        #expect(machine.metrics(now: Self.at(2_000)).utilization == 0)
    }
}
