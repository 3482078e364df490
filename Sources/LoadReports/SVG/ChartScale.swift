import Foundation
import LoadDriver

/// A linear mapping from a data domain to a pixel range, with "nice" tick values (1, 2, 2.5, 5 × 10^n).
package struct LinearScale: Sendable {
    package let domain: ClosedRange<Double>
    /// Pixel positions of the domain's lower and upper bound (`start` may be greater than `end`, e.g. for y axes).
    package let range: (start: Double, end: Double)
    package let ticks: [Double]

    /// A scale covering `lower...upper` (expanded to nice tick boundaries) with about `tickCount` ticks.
    package init(lower: Double, upper: Double, range: (start: Double, end: Double), tickCount: Int = 5, niceUpper: Bool = true) {
        var lo = lower.isFinite ? lower : 0
        var hi = upper.isFinite ? upper : 1
        if hi <= lo { hi = lo + (lo == 0 ? 1 : abs(lo) * 0.1) }
        let step = Self.niceStep((hi - lo) / Double(max(1, tickCount)))
        lo = (lo / step).rounded(.down) * step
        if niceUpper { hi = (hi / step).rounded(.up) * step }
        var ticks: [Double] = []
        var t = lo
        while t <= hi + step * 1e-9 && ticks.count < 50 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        self.domain = lo...hi
        self.range = range
        self.ticks = ticks
    }

    /// Pixel position of `value` (clamped to the domain).
    package func position(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        guard span > 0, value.isFinite else { return range.start }
        let clamped = min(max(value, domain.lowerBound), domain.upperBound)
        return range.start + (clamped - domain.lowerBound) / span * (range.end - range.start)
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^n that is >= `raw`.
    package static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let normalized = raw / magnitude
        let nice: Double
        if normalized <= 1 {
            nice = 1
        } else if normalized <= 2 {
            nice = 2
        } else if normalized <= 2.5 {
            nice = 2.5
        } else if normalized <= 5 {
            nice = 5
        } else {
            nice = 10
        }
        return nice * magnitude
    }
}

/// HdrHistogram's "nines" axis: a percentile p (0...100) sits at log10(1 / (1 - p/100)), so 90%, 99%, 99.9% ... are
/// evenly spaced.
package enum NinesAxis {
    /// The axis coordinate of `percentile` (in percent). 100% has no finite position: it is drawn one resolution step
    /// past the last finite level, at log10(`totalCount`) (the max of N samples is the 1 - 1/N quantile).
    package static func coordinate(percentile: Double, totalCount: Int) -> Double {
        if percentile >= 100 {
            return log10(Double(max(totalCount, 10)))
        }
        let fraction = max(0, percentile) / 100
        return log10(1 / (1 - fraction))
    }

    /// Label of the integer coordinate `n`: 0 → `0%`, 1 → `90%`, 2 → `99%`, 3 → `99.9%` ...
    package static func label(_ n: Int) -> String {
        if n <= 0 { return "0%" }
        if n == 1 { return "90%" }
        if n == 2 { return "99%" }
        return "99." + String(repeating: "9", count: n - 2) + "%"
    }
}
