/// Counters read around one batch of requests: the server process's heap allocations and CPU, and Redis's commands.
public struct CostCounters: Sendable, Equatable {
    /// Heap allocations of the server process so far (the `malloc-counter` shim), `nil` without the shim.
    public var allocations: UInt64?
    /// CPU time of the server process's threads so far, in nanoseconds (`/proc/<pid>/task/*/schedstat`).
    public var cpuNanoseconds: UInt64
    /// Commands Redis executed so far, every command except `INFO` (the probe's own reads).
    public var redisCommands: Int

    public init(allocations: UInt64?, cpuNanoseconds: UInt64, redisCommands: Int) {
        self.allocations = allocations
        self.cpuNanoseconds = cpuNanoseconds
        self.redisCommands = redisCommands
    }
}

/// What one request of an endpoint costs.
///
/// Allocations and Redis commands come from counters read before a batch of N requests, between it and a batch of
/// 2N, and after: `((after − middle) − (middle − before)) / N`, so whatever a batch costs once cancels out.
/// CPU comes from a second phase that alternates one request of the endpoint with one request of its reference and
/// reads the server's threads' CPU around each: the medians' ratio cancels what the machine does to both at the same
/// moment (a noisy neighbour, a slower host), which moves raw CPU by ±30% between runs on a shared VM.
public struct EndpointCost: Sendable, Codable, Equatable {
    /// Heap allocations per request; `nil` without the allocation counter.
    public var allocations: Double?
    /// Redis commands per request (every command but `INFO`).
    public var redisCommands: Double
    /// Server CPU per request over the batches, µs: `((after − middle) − (middle − before)) / N`; informational.
    public var batchCPUMicroseconds: Double
    /// Median server CPU of one request in the alternating phase, µs.
    public var cpuMicroseconds: Double
    /// Median CPU of one request of the reference in the same phase, µs: the server's `GET /health/live` (its HTTP
    /// floor), or redis-server's `PING` for `/health/live` itself.
    public var referenceCPUMicroseconds: Double
    /// ``cpuMicroseconds`` / ``referenceCPUMicroseconds``: the gated CPU figure.
    public var normalizedCPU: Double
    /// Median round-trip time of one request (client send to full response) in the batches, µs: informational.
    public var medianLatencyMicroseconds: Double
    /// Median round-trip time of one request over its reference's, alternating as for CPU: an unloaded request's
    /// latency, where waiting inside the server (a slow lease, a sleep) shows. `nil` in reports that predate it.
    public var normalizedLatency: Double?

    public init(
        allocations: Double?, redisCommands: Double, batchCPUMicroseconds: Double, cpuMicroseconds: Double,
        referenceCPUMicroseconds: Double, medianLatencyMicroseconds: Double
    ) {
        self.allocations = allocations
        self.redisCommands = redisCommands
        self.batchCPUMicroseconds = batchCPUMicroseconds
        self.cpuMicroseconds = cpuMicroseconds
        self.referenceCPUMicroseconds = referenceCPUMicroseconds
        self.normalizedCPU = referenceCPUMicroseconds > 0 ? cpuMicroseconds / referenceCPUMicroseconds : 0
        self.medianLatencyMicroseconds = medianLatencyMicroseconds
    }

    /// The batch figures from three readings around a batch of `n` and a batch of `2n` requests, with the
    /// alternating phase's CPU medians.
    public static func perRequest(
        before: CostCounters, middle: CostCounters, after: CostCounters, n: Int, cpuMicroseconds: Double,
        referenceCPUMicroseconds: Double, medianLatencyMicroseconds: Double
    ) -> EndpointCost {
        func difference(_ a: Double, _ b: Double, _ c: Double) -> Double { ((c - b) - (b - a)) / Double(n) }
        let allocations: Double? =
            if let a = before.allocations, let b = middle.allocations, let c = after.allocations {
                difference(Double(a), Double(b), Double(c))
            } else { nil }
        return EndpointCost(
            allocations: allocations,
            redisCommands: difference(Double(before.redisCommands), Double(middle.redisCommands), Double(after.redisCommands)),
            batchCPUMicroseconds: difference(
                Double(before.cpuNanoseconds), Double(middle.cpuNanoseconds), Double(after.cpuNanoseconds)) / 1000,
            cpuMicroseconds: cpuMicroseconds, referenceCPUMicroseconds: referenceCPUMicroseconds,
            medianLatencyMicroseconds: medianLatencyMicroseconds)
    }
}

/// One run of the cost probe: a fresh server process, every endpoint.
public struct CostRun: Sendable, Codable, Equatable {
    public var endpoints: [String: EndpointCost]

    public init(endpoints: [String: EndpointCost]) { self.endpoints = endpoints }
}

/// The median and spread of one figure over several runs.
public struct Spread: Sendable, Codable, Equatable {
    public var median: Double
    public var minimum: Double
    public var maximum: Double
    /// (maximum − minimum) / median; 0 when the median is 0.
    public var relative: Double
    /// The same without the lowest and the highest value when there are 5 or more: one run caught in a burst of a
    /// noisy neighbour does not widen the tolerance derived from it. Equals ``relative`` below 5 values.
    public var innerRelative: Double
    /// The lowest value, or the second lowest when there are 5 or more: a baseline's time when its runs are not at
    /// hand (the gate reads times from the runs: ``QuietRuns``). Files that predate it decode it as `minimum`.
    public var floor: Double

    private enum CodingKeys: String, CodingKey {
        case median, minimum, maximum, relative, innerRelative, floor
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.median = try container.decode(Double.self, forKey: .median)
        self.minimum = try container.decode(Double.self, forKey: .minimum)
        self.maximum = try container.decode(Double.self, forKey: .maximum)
        self.relative = try container.decode(Double.self, forKey: .relative)
        self.innerRelative = try container.decode(Double.self, forKey: .innerRelative)
        self.floor = try container.decodeIfPresent(Double.self, forKey: .floor) ?? self.minimum
    }

    public init(_ values: [Double]) {
        let sorted = values.sorted()
        let median: Double =
            sorted.isEmpty ? 0
            : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        self.median = median
        self.minimum = sorted.first ?? 0
        self.maximum = sorted.last ?? 0
        self.relative = median != 0 ? (self.maximum - self.minimum) / abs(median) : 0
        let inner = sorted.count >= 5 ? Array(sorted.dropFirst().dropLast()) : sorted
        self.floor = sorted.count >= 5 ? sorted[1] : self.minimum
        self.innerRelative = median != 0 && !inner.isEmpty ? (inner.last! - inner.first!) / abs(median) : 0
    }
}

/// An endpoint's figures over all runs.
public struct EndpointCostSummary: Sendable, Codable, Equatable {
    public var allocations: Spread?
    public var cpuMicroseconds: Spread
    public var referenceCPUMicroseconds: Spread
    public var normalizedCPU: Spread
    public var redisCommands: Spread
    public var medianLatencyMicroseconds: Spread
    public var normalizedLatency: Spread?

    public init(_ costs: [EndpointCost]) {
        let allocations = costs.compactMap(\.allocations)
        self.allocations = allocations.count == costs.count && !costs.isEmpty ? Spread(allocations) : nil
        self.cpuMicroseconds = Spread(costs.map(\.cpuMicroseconds))
        self.referenceCPUMicroseconds = Spread(costs.map(\.referenceCPUMicroseconds))
        self.normalizedCPU = Spread(costs.map(\.normalizedCPU))
        self.redisCommands = Spread(costs.map(\.redisCommands))
        self.medianLatencyMicroseconds = Spread(costs.map(\.medianLatencyMicroseconds))
        let latencies = costs.compactMap(\.normalizedLatency)
        self.normalizedLatency = latencies.count == costs.count && !costs.isEmpty ? Spread(latencies) : nil
    }
}

/// The result of `cost-gate`: every run and the summary per endpoint.
public struct CostReport: Sendable, Codable, Equatable {
    public var recordedAt: String
    public var machine: String
    public var requestsPerBatch: [String: Int]
    public var runs: [CostRun]
    public var endpoints: [String: EndpointCostSummary]
    /// Set when the server ran with a `PERF_INJECT_REGRESSION`.
    public var injectedRegression: String?
    /// How many CPUs the measurement (probe, server and redis-server) was allowed to run on; `scripts/cost` pins it to
    /// one, so no request waits for a wake-up on the other core. `nil` in reports from before pinning.
    public var allowedCPUs: Int?

    public init(
        recordedAt: String, machine: String, requestsPerBatch: [String: Int], runs: [CostRun],
        injectedRegression: String? = nil, allowedCPUs: Int? = nil
    ) {
        self.recordedAt = recordedAt
        self.allowedCPUs = allowedCPUs
        self.machine = machine
        self.requestsPerBatch = requestsPerBatch
        self.runs = runs
        var endpoints: [String: EndpointCostSummary] = [:]
        for name in Set(runs.flatMap(\.endpoints.keys)) {
            endpoints[name] = EndpointCostSummary(runs.compactMap { $0.endpoints[name] })
        }
        self.endpoints = endpoints
        self.injectedRegression = injectedRegression
    }
}
