import LoadDriver

/// A documented shortfall of a scenario on the reference machine: the in-process server saturating the machine's CPU
/// below the scenario's target rate.
///
/// It excuses only what saturation explains and only when the run shows the cause:
/// - excused: failed thresholds on latency (any percentile or aggregate), the achieved rate (and `late`/`dropped`)
///   and the pool's fields — a saturated server queues, so all of these move together;
/// - and only when the machine was at least ``minimumMachineBusyPercent`` busy (stolen time included) during the load.
///
/// Everything else still fails the test: the success rate, the deterministic gates (Redis commands per request,
/// connections opened, leaked leases), baseline regressions, and a missed rate on a machine that had CPU to spare —
/// that is a stall or a lock, not the known capacity limit.
public struct KnownShortfall: Sendable, Equatable {
    /// Why the shortfall is known (shown with the known issue).
    public var reason: String
    /// The machine's busy plus stolen CPU, in percent of all CPUs over the load, from which a failure counts as the
    /// capacity limit. Default 90: saturated Stress and Ultimate runs on the reference machine read 98-100%.
    public var minimumMachineBusyPercent: Double

    public init(_ reason: String, minimumMachineBusyPercent: Double = 90) {
        self.reason = reason
        self.minimumMachineBusyPercent = minimumMachineBusyPercent
    }

    /// Whether a failure of the threshold `expression` is one that saturation explains. Expressions that do not parse
    /// as a LoadDriver threshold (the harness's `gate.*` checks) never are.
    public static func isCapacityBound(_ expression: String) -> Bool {
        guard let threshold = try? Threshold(parsing: expression) else { return false }
        switch threshold.metric {
        case .pool:
            return true
        case .request(_, _, let aggregate):
            switch aggregate {
            case .percentile, .min, .max, .mean, .stddev, .achievedRate, .late, .dropped: return true
            case .failureRate, .successRate, .requests, .succeeded, .failed: return false
            }
        }
    }

    /// Whether `result`'s machine was saturated during the load; `nil` when the result has no machine figures.
    public func machineWasSaturated(_ result: LoadTestResult) -> Bool? {
        guard let machine = result.driver.machine else { return nil }
        return machine.busyPercent + machine.stealPercent >= self.minimumMachineBusyPercent
    }
}

extension PerformanceRun {
    /// This run's failures split into those `shortfall` excuses and those it does not (see ``KnownShortfall``).
    public func failures(excusing shortfall: KnownShortfall) -> (excused: [String], remaining: [String]) {
        let saturated = shortfall.machineWasSaturated(self.result)
        var excused: [String] = []
        var remaining: [String] = []
        for threshold in self.result.thresholds where !threshold.ok {
            let line = Self.failureLine(threshold)
            guard KnownShortfall.isCapacityBound(threshold.expression) else {
                remaining.append(line)
                continue
            }
            if saturated == true {
                excused.append(line)
            } else {
                let busy = self.result.driver.machine.map { String(format: "%.0f%%", $0.busyPercent + $0.stealPercent) }
                remaining.append(
                    line + " — not excused as the known shortfall: the machine was "
                        + (busy.map { "only \($0) busy (stolen time included)" } ?? "not measured")
                        + String(format: ", below the %.0f%% that shows the capacity limit", shortfall.minimumMachineBusyPercent))
            }
        }
        remaining += self.regressionFailures
        return (excused, remaining)
    }
}
