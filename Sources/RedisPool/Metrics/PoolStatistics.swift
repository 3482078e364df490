import Histogram

/// Counters and latency histograms kept inside the pool state machine (so they are updated under the pool's single
/// lock, with no extra synchronisation). Latencies are recorded in microseconds.
package struct PoolStatistics: Sendable {
    package var leases = 0
    package var roundTrips = 0
    package var acquireTimeouts = 0
    package var waitersRejected = 0
    package var unavailableRejections = 0
    package var connectionsCreated = 0
    package var connectionsClosed = 0
    package var connectionFailures = 0
    package var acquireWait = PoolStatistics.makeHistogram()
    package var leaseHold = PoolStatistics.makeHistogram()

    /// 1 µs ... 60 s, 2 significant digits (about 1.5k buckets, 12 KiB each).
    static let highestTrackableMicroseconds: UInt64 = 60_000_000

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1,
            highestTrackableValue: highestTrackableMicroseconds,
            numberOfSignificantValueDigits: .two
        )
    }

    package init() {}

    @inline(__always)
    package mutating func recordAcquireWait(nanoseconds: Int64) {
        _ = self.acquireWait.record(Self.clampedMicroseconds(nanoseconds))
    }

    @inline(__always)
    package mutating func recordLeaseHold(nanoseconds: Int64) {
        _ = self.leaseHold.record(Self.clampedMicroseconds(nanoseconds))
    }

    @inline(__always)
    static func clampedMicroseconds(_ nanoseconds: Int64) -> UInt64 {
        if nanoseconds <= 0 { return 0 }
        return Swift.min(UInt64(nanoseconds / 1000), highestTrackableMicroseconds)
    }

    static func percentiles(_ histogram: Histogram<UInt64>) -> PoolMetrics.Percentiles {
        guard histogram.totalCount > 0 else { return .init() }
        func ms(_ value: UInt64) -> Double { Double(value) / 1000 }
        return .init(
            p50: ms(histogram.valueAtPercentile(50)),
            p95: ms(histogram.valueAtPercentile(95)),
            p99: ms(histogram.valueAtPercentile(99)),
            max: ms(histogram.max)
        )
    }
}
