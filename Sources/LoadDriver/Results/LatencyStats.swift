import Histogram

/// Latency statistics in milliseconds, computed from an HdrHistogram recorded in microseconds.
public struct LatencyStats: Codable, Sendable, Equatable {
    public var count: Int
    public var min: Double
    /// The 10th percentile: the latency floor most requests pay even when the machine is quiet. Noise (a busy
    /// neighbour, a stall) adds latency to some requests but seldom lowers the floor, so a constant added delay shows
    /// here most clearly (`nil` in results written before it was recorded).
    public var p10: Double?
    public var p50: Double
    public var p75: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double
    public var stddev: Double

    public init(
        count: Int = 0, min: Double = 0, p10: Double? = nil, p50: Double = 0, p75: Double = 0, p90: Double = 0,
        p95: Double = 0, p99: Double = 0, p999: Double = 0, max: Double = 0, mean: Double = 0, stddev: Double = 0
    ) {
        self.count = count
        self.min = min
        self.p10 = p10
        self.p50 = p50
        self.p75 = p75
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
        self.stddev = stddev
    }

    /// Stats of a histogram whose values are microseconds.
    package init(microseconds h: Histogram<UInt64>) {
        guard h.totalCount > 0 else {
            self.init()
            return
        }
        func ms(_ us: UInt64) -> Double { Double(us) / 1000 }
        self.init(
            count: Int(h.totalCount),
            min: ms(h.min),
            p10: ms(h.valueAtPercentile(10)),
            p50: ms(h.valueAtPercentile(50)),
            p75: ms(h.valueAtPercentile(75)),
            p90: ms(h.valueAtPercentile(90)),
            p95: ms(h.valueAtPercentile(95)),
            p99: ms(h.valueAtPercentile(99)),
            p999: ms(h.valueAtPercentile(99.9)),
            max: ms(h.max),
            mean: h.mean / 1000,
            stddev: h.stdDeviation / 1000
        )
    }

    /// A percentile by its number (10, 50, 75, 90, 95, 99, 99.9) or `nil` for one that is not stored.
    public func percentile(_ p: Double) -> Double? {
        switch p {
        case 10: return self.p10
        case 50: return self.p50
        case 75: return self.p75
        case 90: return self.p90
        case 95: return self.p95
        case 99: return self.p99
        case 99.9: return self.p999
        case 100: return self.max
        case 0: return self.min
        default: return nil
        }
    }
}

/// One point of the percentile distribution ("nines" chart / `.hgrm`): the latency at or below which `percentile`
/// percent of requests completed.
public struct PercentilePoint: Codable, Sendable, Equatable {
    public var percentile: Double
    public var valueMs: Double
    /// Requests at or below this value (the `.hgrm` TotalCount column).
    public var totalCount: Int
    public init(percentile: Double, valueMs: Double, totalCount: Int) {
        self.percentile = percentile
        self.valueMs = valueMs
        self.totalCount = totalCount
    }
}

extension Histogram where Count == UInt64 {
    /// HdrHistogram's standard percentile iteration (5 ticks per half distance, as in `.hgrm` output), in ms.
    package func percentileDistribution(ticksPerHalfDistance: Int = 5) -> [PercentilePoint] {
        guard self.totalCount > 0 else { return [] }
        var points: [PercentilePoint] = []
        for v in self.percentiles(ticksPerHalfDistance: ticksPerHalfDistance) {
            points.append(
                PercentilePoint(
                    percentile: v.percentileLevelIteratedTo,
                    valueMs: Double(v.value) / 1000,
                    totalCount: Int(v.totalCountToThisValue)))
        }
        return points
    }
}
