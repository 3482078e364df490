import ArgumentParser
import LoadDriver

/// The regression rule's options, shared by `compare` and `report --baseline` so both judge a result alike: a named
/// set (`--tolerances`), then any single field overridden.
struct ToleranceOptions: ParsableArguments {
    @Option(help: "Named tolerance set: default (a quiet machine) or shared-machine (the test suite's gate: floor 1.5x + 0.5 ms, median 2x + 1 ms, tail 10x + 50 ms).")
    var tolerances: String = "default"

    @Option(help: "Allowed relative growth of p95/p99 (0.5 = +50%). Default: the set's.")
    var latencyGrowth: Double?

    @Option(help: "Absolute slack in ms added to the p95/p99 allowance. Default: the set's.")
    var latencySlackMs: Double?

    @Option(help: "Allowed relative growth of the median, p50 (1.0 = 2x). Default: the set's.")
    var medianGrowth: Double?

    @Option(help: "Absolute slack in ms added to the median's allowance. Default: the set's.")
    var medianSlackMs: Double?

    @Option(help: "Allowed relative growth of the latency floor, p10 (0.5 = 1.5x). Default: the set's.")
    var floorGrowth: Double?

    @Option(help: "Absolute slack in ms added to the floor's allowance. Default: the set's.")
    var floorSlackMs: Double?

    @Option(help: "Allowed failure-rate increase in percentage points. Default: the set's.")
    var failureRatePoints: Double?

    @Option(help: "Allowed relative drop of the achieved rate (0.05 = 5%). Default: the set's.")
    var achievedRateDrop: Double?

    func validate() throws {
        guard BaselineComparison.Tolerances.presets[tolerances] != nil else {
            let names = BaselineComparison.Tolerances.presets.keys.sorted().joined(separator: ", ")
            throw ValidationError("unknown --tolerances '\(tolerances)' (one of: \(names))")
        }
        let values = [latencyGrowth, latencySlackMs, medianGrowth, medianSlackMs, floorGrowth, floorSlackMs,
                      failureRatePoints, achievedRateDrop]
        if values.contains(where: { $0.map { !($0 >= 0) || !$0.isFinite } ?? false }) {
            throw ValidationError("tolerance values must be finite and >= 0")
        }
    }

    /// The named set with the overrides applied.
    var resolved: BaselineComparison.Tolerances {
        var t = BaselineComparison.Tolerances.presets[tolerances] ?? .default
        if let latencyGrowth { t.latencyGrowth = latencyGrowth }
        if let latencySlackMs { t.latencySlackMs = latencySlackMs }
        if let medianGrowth { t.medianGrowth = medianGrowth }
        if let medianSlackMs { t.medianSlackMs = medianSlackMs }
        if let floorGrowth { t.floorGrowth = floorGrowth }
        if let floorSlackMs { t.floorSlackMs = floorSlackMs }
        if let failureRatePoints { t.failureRateIncreasePoints = failureRatePoints }
        if let achievedRateDrop { t.achievedRateDrop = achievedRateDrop }
        return t
    }
}
