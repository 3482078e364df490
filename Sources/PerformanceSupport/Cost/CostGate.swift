/// How far a cost figure may move from its baseline before the gate fails. One rule for every endpoint.
public struct CostTolerances: Sendable, Codable, Equatable {
    /// Heap allocations per request may grow by this fraction of the baseline plus ``allocationSlack``.
    /// Default 2%: allocation counts are deterministic but for the server's timers and housekeeping.
    public var allocationGrowth: Double
    /// Absolute slack on allocations per request. Default 1.
    public var allocationSlack: Double
    /// Normalized CPU per request may grow by at least this fraction of the baseline. Default 15%, so the gate catches
    /// a 20% regression of an endpoint whose figure is steady.
    public var cpuGrowth: Double
    /// ...or by this multiple of the baseline's own spread over its quieter half of runs (``QuietRuns``), when that
    /// is more: an endpoint that measured noisier gets a wider allowance, stated in its check. Default 2.
    public var cpuSpreadFactor: Double
    /// The most a spread-derived allowance may reach, so a baseline recorded on a noisy day keeps its teeth.
    /// Default 40%.
    public var maximumSpreadAllowance: Double
    /// Normalized latency may grow by at least this fraction, or by ``cpuSpreadFactor`` times the baseline's spread
    /// when that is more. Default 50%: unloaded latency is noisier than CPU, and the waits it is there to catch (a
    /// slow hop inside a lease) multiply it.
    public var latencyGrowth: Double
    /// Redis commands per request may differ from the baseline by this much either way. Default 0.05 (one stray
    /// command per 20 requests; an extra round trip per request is +1).
    public var commandDifference: Double

    public init(
        allocationGrowth: Double = 0.02, allocationSlack: Double = 1, cpuGrowth: Double = 0.15, cpuSpreadFactor: Double = 2,
        maximumSpreadAllowance: Double = 0.4, latencyGrowth: Double = 0.5, commandDifference: Double = 0.05
    ) {
        self.maximumSpreadAllowance = maximumSpreadAllowance
        self.latencyGrowth = latencyGrowth
        self.allocationGrowth = allocationGrowth
        self.allocationSlack = allocationSlack
        self.cpuGrowth = cpuGrowth
        self.cpuSpreadFactor = cpuSpreadFactor
        self.commandDifference = commandDifference
    }

    public static let standard = CostTolerances()
}

/// One check of the cost gate: an endpoint's figure against its baseline and tolerance.
public struct CostCheck: Sendable, Codable, Equatable {
    /// `cost.<endpoint>.<figure>`, e.g. `cost.verify.allocations`.
    public var name: String
    public var actual: Double
    public var baseline: Double
    /// The limit derived from the baseline and the tolerance (for commands: the allowed distance).
    public var limit: Double
    public var tolerance: String
    public var ok: Bool

    /// `FAIL cost.verify.cpu: 1.32 per request (baseline 1.10, limit 1.21 = +10%)`
    public var line: String {
        "\(ok ? "ok  " : "FAIL") \(name): \(format(actual)) per request (baseline \(format(baseline)), limit \(format(limit)) = \(tolerance))"
    }

    private func format(_ value: Double) -> String {
        let magnitude = abs(value)
        let digits = magnitude >= 100 ? 1 : magnitude >= 1 ? 3 : 4
        var text = String(Int((value * pow10(digits)).rounded()))
        if digits > 0 {
            let negative = text.hasPrefix("-")
            if negative { text.removeFirst() }
            while text.count <= digits { text = "0" + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
            if negative { text = "-" + text }
        }
        return text
    }

    private func pow10(_ n: Int) -> Double { (0..<n).reduce(1) { r, _ in r * 10 } }
}

/// The cost gate, endpoint by endpoint: counts (allocations, Redis commands) compare the runs' medians; times
/// (normalized CPU and latency) compare the quietest run with the baseline's quieter half (``QuietRuns``).
public enum CostGate {
    public static func checks(current: CostReport, baseline: CostReport, tolerances: CostTolerances = .standard) -> [CostCheck] {
        var checks: [CostCheck] = []
        for name in baseline.endpoints.keys.sorted() {
            guard let base = baseline.endpoints[name] else { continue }
            guard let now = current.endpoints[name] else {
                checks.append(
                    CostCheck(name: "cost.\(name).measured", actual: 0, baseline: 1, limit: 1, tolerance: "must be measured", ok: false))
                continue
            }
            let nowRuns = current.runs.compactMap { $0.endpoints[name] }
            let baseRuns = baseline.runs.compactMap { $0.endpoints[name] }
            if let baseAllocations = base.allocations?.median {
                let limit = baseAllocations * (1 + tolerances.allocationGrowth) + tolerances.allocationSlack
                let actual = now.allocations?.median ?? .infinity
                checks.append(
                    CostCheck(
                        name: "cost.\(name).allocations", actual: actual, baseline: baseAllocations, limit: limit,
                        tolerance: "+\(percent(tolerances.allocationGrowth)) + \(tolerances.allocationSlack)",
                        ok: actual <= limit))
            }
            let cpuSpread = QuietRuns.baselineSpread(baseRuns, quietness: \.cpuMicroseconds, figure: { $0.normalizedCPU })
                ?? base.normalizedCPU.innerRelative
            let spreadAllowance = min(tolerances.cpuSpreadFactor * cpuSpread, tolerances.maximumSpreadAllowance)
            let cpuGrowth = max(tolerances.cpuGrowth, spreadAllowance)
            let baseCPU = QuietRuns.baseline(baseRuns, quietness: \.cpuMicroseconds, figure: { $0.normalizedCPU }) ?? base.normalizedCPU.floor
            let nowCPU = QuietRuns.measured(nowRuns, quietness: \.cpuMicroseconds, figure: { $0.normalizedCPU }) ?? now.normalizedCPU.minimum
            let cpuLimit = baseCPU * (1 + cpuGrowth)
            checks.append(
                CostCheck(
                    name: "cost.\(name).normalizedCPU", actual: nowCPU, baseline: baseCPU, limit: cpuLimit,
                    tolerance: "+\(percent(cpuGrowth))"
                        + (spreadAllowance > tolerances.cpuGrowth
                            ? " (\(tolerances.cpuSpreadFactor.formatted2)x the baseline's spread of \(percent(cpuSpread)))" : ""),
                    ok: nowCPU <= cpuLimit))
            if let baseLatency = base.normalizedLatency {
                let latencySpread = QuietRuns.baselineSpread(baseRuns, quietness: \.medianLatencyMicroseconds, figure: \.normalizedLatency)
                    ?? baseLatency.innerRelative
                let growth = max(
                    tolerances.latencyGrowth, min(tolerances.cpuSpreadFactor * latencySpread, tolerances.maximumSpreadAllowance))
                let baseFigure = QuietRuns.baseline(baseRuns, quietness: \.medianLatencyMicroseconds, figure: \.normalizedLatency)
                    ?? baseLatency.floor
                let limit = baseFigure * (1 + growth)
                let actual = QuietRuns.measured(nowRuns, quietness: \.medianLatencyMicroseconds, figure: \.normalizedLatency)
                    ?? now.normalizedLatency?.minimum ?? .infinity
                checks.append(
                    CostCheck(
                        name: "cost.\(name).normalizedLatency", actual: actual, baseline: baseFigure, limit: limit,
                        tolerance: "+\(percent(growth))", ok: actual <= limit))
            }
            let commandDistance = abs(now.redisCommands.median - base.redisCommands.median)
            checks.append(
                CostCheck(
                    name: "cost.\(name).redisCommands", actual: now.redisCommands.median,
                    baseline: base.redisCommands.median, limit: base.redisCommands.median + tolerances.commandDifference,
                    tolerance: "±\(tolerances.commandDifference)", ok: commandDistance <= tolerances.commandDifference))
        }
        return checks
    }

    private static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }
}

/// Which runs a time figure is read from. Noise on a shared machine adds time to a run, but not in proportion: a burst
/// that slows the reference request more than the endpoint lowers their ratio, so the lowest ratio is not the cleanest
/// one. The run with the lowest absolute time is: a measurement's figure is the normalized value of its quietest run,
/// and a baseline's the median over its quieter half (the ⌈n/2⌉ runs with the lowest absolute time), so one odd run
/// cannot tighten a limit. A regression in the code moves every run, the quietest included.
public enum QuietRuns {
    /// The normalized `figure` of the run with the lowest `quietness`; `nil` when no run has the figure.
    public static func measured(
        _ runs: [EndpointCost], quietness: (EndpointCost) -> Double, figure: (EndpointCost) -> Double?
    ) -> Double? {
        pairs(runs, quietness, figure).min { $0.quietness < $1.quietness }?.figure
    }

    /// The median normalized `figure` over the ⌈n/2⌉ runs with the lowest `quietness`; `nil` when no run has it.
    public static func baseline(
        _ runs: [EndpointCost], quietness: (EndpointCost) -> Double, figure: (EndpointCost) -> Double?
    ) -> Double? {
        median(quieterHalf(pairs(runs, quietness, figure)))
    }

    /// The spread of the normalized `figure` over the same quieter half: (max − min) / median, what the baseline's
    /// clean runs vary by; `nil` below 3 runs with the figure.
    public static func baselineSpread(
        _ runs: [EndpointCost], quietness: (EndpointCost) -> Double, figure: (EndpointCost) -> Double?
    ) -> Double? {
        let half = quieterHalf(pairs(runs, quietness, figure))
        guard half.count >= 3, let median = median(half), median != 0 else { return nil }
        return (half.last! - half.first!) / abs(median)
    }

    private static func pairs(
        _ runs: [EndpointCost], _ quietness: (EndpointCost) -> Double, _ figure: (EndpointCost) -> Double?
    ) -> [(quietness: Double, figure: Double)] {
        runs.compactMap { run in figure(run).map { (quietness(run), $0) } }
    }

    /// The quieter half's figures, sorted.
    private static func quieterHalf(_ pairs: [(quietness: Double, figure: Double)]) -> [Double] {
        pairs.sorted { $0.quietness < $1.quietness }.prefix((pairs.count + 1) / 2).map(\.figure).sorted()
    }

    private static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension Double {
    fileprivate var formatted2: String { self == rounded() ? String(Int(self)) : String(self) }
}
