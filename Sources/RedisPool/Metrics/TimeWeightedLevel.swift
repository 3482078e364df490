import NIOCore

/// The time-weighted mean of an integer level (the pool's leased connections) over fixed windows of `window`
/// nanoseconds, aligned to the first recorded change. Pure: time is passed in.
///
/// This is what the pool reports as `utilization`: an instantaneous `inUse` read once a second samples a random
/// instant (and a poll served by a busy event loop tends to land right after a stall, when many leases are held);
/// the mean over a whole second is the fraction of the pool's capacity actually used in that second.
package struct TimeWeightedLevel: Sendable {
    package let window: Int64
    private var level = 0
    private var lastChange: NIODeadline? = nil
    private var windowStart = NIODeadline.uptimeNanoseconds(0)
    /// level x nanoseconds accumulated in the current window.
    private var area: Double = 0
    /// Mean level over the last completed window.
    private var lastWindowMean: Double? = nil

    package init(window: Int64 = 1_000_000_000) {
        self.window = Swift.max(1, window)
    }

    /// The level changed to `newLevel` at `now`.
    package mutating func set(_ newLevel: Int, at now: NIODeadline) {
        self.advance(to: now)
        self.level = newLevel
    }

    /// Mean level over the last completed window; before the first window completes, the mean since the first
    /// recorded change (the current level if no time has passed).
    package func mean(at now: NIODeadline) -> Double {
        var copy = self
        copy.advance(to: now)
        if let mean = copy.lastWindowMean { return mean }
        // advance(to:) set lastChange to `now` (or later, for an out-of-order `now`).
        let span = Double(copy.lastChange!.nanoseconds(since: copy.windowStart))
        return span > 0 ? copy.area / span : Double(copy.level)
    }

    private mutating func advance(to time: NIODeadline) {
        guard let last = lastChange else {
            lastChange = time
            windowStart = time
            return
        }
        // Callers read the clock outside the pool's lock: tolerate slightly out-of-order times.
        let now = Swift.max(time, last)
        var from = last
        let windowEnd = windowStart + .nanoseconds(window)
        if now >= windowEnd {
            area += Double(level) * Double(windowEnd.nanoseconds(since: from))
            lastWindowMean = area / Double(window)
            // Whole windows after that one held `level` throughout.
            let wholeWindows = now.nanoseconds(since: windowEnd) / window
            if wholeWindows > 0 { lastWindowMean = Double(level) }
            windowStart = windowEnd + .nanoseconds(wholeWindows * window)
            area = 0
            from = windowStart
        }
        area += Double(level) * Double(now.nanoseconds(since: from))
        lastChange = now
    }
}
