import Foundation

/// Everything one run produced; encodes to the schema-version-1 result JSON.
public struct LoadTestResult: Codable, Sendable, Equatable {
    /// Always 1 for this layout.
    public var schemaVersion: Int
    /// The full scenario that ran.
    public var scenario: Scenario
    /// Where and how it ran.
    public var environment: RunEnvironment
    /// Run identifier (also the username prefix of this run's users).
    public var runId: String
    /// Wall-clock start of the load phase, ISO 8601.
    public var startedAt: String
    /// Overall counts, rates and latencies of the measured window.
    public var summary: Summary
    /// Corrected-latency percentile distribution at HdrHistogram's standard iteration steps (for nines charts and
    /// `.hgrm` files).
    public var latencyDistribution: [PercentilePoint]
    /// Per-endpoint statistics keyed by the request template's name.
    public var endpoints: [String: EndpointStats]
    /// HTTP status code (as a string) → responses in the measured window.
    public var statusCodes: [String: Int]
    /// Error counts by kind and the first samples of each kind.
    public var errors: ErrorReport
    /// One point per second since the load started (warm-up seconds included, flagged).
    public var timeSeries: [TimeSeriesPoint]
    /// Pool metrics polled from the server, `nil` when monitoring was off or never answered.
    public var pool: PoolReport?
    /// The driver's self-check.
    public var driver: DriverReport
    /// Evaluated thresholds: the scenario's, and whatever else judged the run (deterministic gates, baseline
    /// checks, an `--abort-on` rule that fired).
    public var thresholds: [ThresholdResult]
    /// The verdict: every threshold held. Set by ``settleVerdict()`` only.
    public var passed: Bool
    /// What the verdict is for; `nil` means ``Role/gated``.
    public var role: Role?
    /// Every request written to the server over the whole run, by endpoint name: setup steps (including retries),
    /// warm-up and the measured window. For deterministic per-request gates (e.g. server-side commands per request).
    public var requestsSent: [String: Int]?
    /// What happened to the system under test during the run, as marked by whoever drove it (e.g. a fault injected
    /// and cleared), on the time series' clock. `nil` when nothing was marked.
    public var events: [RunEvent]?
    /// The full latency histograms of the measured window (µs), in HdrHistogram's V2 compressed encoding, base64
    /// (``HdrHistogramCodec``): `latency` and `serviceTime` for the run, `<endpoint>.latency` and
    /// `<endpoint>.serviceTime` per endpoint. Results of shards merge exactly through them (`loaddriver merge`).
    /// `nil` in results recorded before they were kept.
    public var histograms: [String: String]?

    public init(
        schemaVersion: Int = 1, scenario: Scenario, environment: RunEnvironment, runId: String, startedAt: String,
        summary: Summary, latencyDistribution: [PercentilePoint], endpoints: [String: EndpointStats],
        statusCodes: [String: Int], errors: ErrorReport, timeSeries: [TimeSeriesPoint], pool: PoolReport?,
        driver: DriverReport, thresholds: [ThresholdResult], passed: Bool, requestsSent: [String: Int]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.scenario = scenario
        self.environment = environment
        self.runId = runId
        self.startedAt = startedAt
        self.summary = summary
        self.latencyDistribution = latencyDistribution
        self.endpoints = endpoints
        self.statusCodes = statusCodes
        self.errors = errors
        self.timeSeries = timeSeries
        self.pool = pool
        self.driver = driver
        self.thresholds = thresholds
        self.passed = passed
        self.requestsSent = requestsSent
    }

    /// Whether a run's verdict gates anything.
    public enum Role: String, Codable, Sendable, Equatable {
        /// The verdict is the run's outcome (a test, a CLI exit status).
        case gated
        /// Measured for comparison with another run and not gated itself (e.g. PoolComparison's connection per
        /// request): its thresholds are figures, not a verdict.
        case reference
        /// An attempt that a later run of the same scenario replaced (a re-measurement); that run decides.
        case superseded
    }

    /// True unless ``role`` says the verdict gates nothing.
    public var isGated: Bool { (role ?? .gated) == .gated }

    /// The run's verdict as reports show it.
    public enum Verdict: String, Sendable, Equatable {
        case passed, failed
        /// Not gated: ``Role/reference``.
        case reference
        /// Not gated: ``Role/superseded``.
        case superseded

        /// `PASS`, `FAIL`, `REFERENCE`, `RE-MEASURED`.
        public var label: String {
            switch self {
            case .passed: "PASS"
            case .failed: "FAIL"
            case .reference: "REFERENCE"
            case .superseded: "RE-MEASURED"
            }
        }
    }

    public var verdict: Verdict {
        switch role ?? .gated {
        case .gated: passed ? .passed : .failed
        case .reference: .reference
        case .superseded: .superseded
        }
    }

    /// Decides ``passed`` from ``thresholds``: the one place the verdict is computed.
    public mutating func settleVerdict() {
        passed = thresholds.allSatisfy(\.ok)
    }

    /// Adds checks that judged the run (gates, baseline checks) and settles the verdict again.
    public mutating func record(_ checks: [ThresholdResult]) {
        thresholds += checks
        settleVerdict()
    }

    /// Overall numbers of the measured window.
    public struct Summary: Codable, Sendable, Equatable {
        /// Measured requests that completed or failed (responses + transport errors).
        public var requests: Int
        public var succeeded: Int
        public var failed: Int
        /// succeeded / requests (1 when there were no requests).
        public var successRate: Double
        /// failed / requests (0 when there were no requests).
        public var failureRate: Double
        /// Intended total rate in req/s averaged over the measured window; `nil` for closed loop.
        public var targetRate: Double?
        /// Completed requests per second of the measured window.
        public var achievedRate: Double
        /// Length of the measured window in seconds.
        public var measuredSeconds: Double
        /// Slots sent more than one interval after their intended time (see ``SlotTracker``).
        public var late: Int
        /// Slots due but never sent because the run ended.
        public var dropped: Int
        /// Corrected latency: from the intended send time (open models) to the end of the response.
        public var latencyMs: LatencyStats
        /// Service time: from the actual send to the end of the response (for concurrent users: the response time
        /// the users waited).
        public var serviceTimeMs: LatencyStats
        /// Slots skipped because the user was still waiting for an answer (``LoadModel/concurrentUsers(ratePerUser:)``
        /// only; `nil` for other models).
        public var skipped: Int?
        /// How late measured requests were sent after their slot (open models; `nil` for closed loop). For concurrent
        /// users: the wait for the previous answer past the slot.
        public var scheduleLagMs: LatencyStats?

        public init(
            requests: Int, succeeded: Int, failed: Int, successRate: Double, failureRate: Double, targetRate: Double?,
            achievedRate: Double, measuredSeconds: Double, late: Int, dropped: Int, latencyMs: LatencyStats,
            serviceTimeMs: LatencyStats, skipped: Int? = nil, scheduleLagMs: LatencyStats? = nil
        ) {
            self.skipped = skipped
            self.scheduleLagMs = scheduleLagMs
            self.requests = requests
            self.succeeded = succeeded
            self.failed = failed
            self.successRate = successRate
            self.failureRate = failureRate
            self.targetRate = targetRate
            self.achievedRate = achievedRate
            self.measuredSeconds = measuredSeconds
            self.late = late
            self.dropped = dropped
            self.latencyMs = latencyMs
            self.serviceTimeMs = serviceTimeMs
        }
    }
}

/// Per-endpoint numbers.
public struct EndpointStats: Codable, Sendable, Equatable {
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    public var successRate: Double
    public var failureRate: Double
    public var achievedRate: Double
    public var latencyMs: LatencyStats
    public var serviceTimeMs: LatencyStats
    public init(
        requests: Int, succeeded: Int, failed: Int, successRate: Double, failureRate: Double, achievedRate: Double,
        latencyMs: LatencyStats, serviceTimeMs: LatencyStats
    ) {
        self.requests = requests
        self.succeeded = succeeded
        self.failed = failed
        self.successRate = successRate
        self.failureRate = failureRate
        self.achievedRate = achievedRate
        self.latencyMs = latencyMs
        self.serviceTimeMs = serviceTimeMs
    }
}

/// Kinds of failed requests.
public enum ErrorKind: String, Codable, Sendable, CaseIterable, Comparable {
    case connectRefused, connectionReset, timeout, http4xx, http5xx, unexpectedBody, other
    public static func < (a: ErrorKind, b: ErrorKind) -> Bool {
        ErrorKind.allCases.firstIndex(of: a)! < ErrorKind.allCases.firstIndex(of: b)!
    }
}

/// One kept error sample.
public struct ErrorSample: Codable, Sendable, Equatable {
    public var kind: ErrorKind
    /// Seconds since load start (negative during setup).
    public var atSeconds: Double
    public var endpoint: String
    public var detail: String
    public init(kind: ErrorKind, atSeconds: Double, endpoint: String, detail: String) {
        self.kind = kind
        self.atSeconds = atSeconds
        self.endpoint = endpoint
        self.detail = detail
    }
}

/// Errors of the measured window (setup and warm-up errors are counted separately).
public struct ErrorReport: Codable, Sendable, Equatable {
    public var total: Int
    /// Kind name → count.
    public var counts: [String: Int]
    /// The first N samples per kind (all phases, including setup), ordered by time.
    public var samples: [ErrorSample]
    /// Failed setup requests (not measured).
    public var setupFailures: Int
    /// Failed warm-up requests (not measured).
    public var warmUpFailures: Int
    public init(total: Int, counts: [String: Int], samples: [ErrorSample], setupFailures: Int, warmUpFailures: Int) {
        self.total = total
        self.counts = counts
        self.samples = samples
        self.setupFailures = setupFailures
        self.warmUpFailures = warmUpFailures
    }
}

/// One second of the run.
public struct TimeSeriesPoint: Codable, Sendable, Equatable {
    /// Seconds since load start (the second [second, second+1)).
    public var second: Int
    /// True for seconds that start inside the warm-up (requests of the warm-up are excluded from the summary).
    public var warmUp: Bool
    /// Requests completed (success or failure) in this second.
    public var requests: Int
    public var errors: Int
    public var p50Ms: Double
    public var p95Ms: Double
    public var p99Ms: Double
    /// Completed requests per second in this second.
    public var achievedRate: Double
    /// Intended rate of this second (`nil` for closed loop).
    public var targetRate: Double?
    /// The pool sample polled during this second, flattened (`nested.field`).
    public var pool: [String: Double]?
    /// The whole machine's CPU in this second, like ``DriverReport/machine`` (`nil` where `/proc/stat` is unreadable).
    public var machine: MachineCPUReport?
    /// This process's CPU in this second (the driver, plus the server when it runs in-process), in percent of one
    /// core, like ``DriverReport/cpuPercent``. With `machine`, it tells who kept the machine busy in a bad second.
    public var cpuPercent: Double?
    /// This second's `errors` by kind, with the kind names of ``ErrorReport/counts`` (they add up to `errors`);
    /// `nil` when nothing failed in this second, and in older results, which recorded only the total.
    public var errorsByKind: [String: Int]?
    public init(
        second: Int, warmUp: Bool, requests: Int, errors: Int, p50Ms: Double, p95Ms: Double, p99Ms: Double,
        achievedRate: Double, targetRate: Double?, pool: [String: Double]?, machine: MachineCPUReport? = nil,
        cpuPercent: Double? = nil, errorsByKind: [String: Int]? = nil
    ) {
        self.second = second
        self.warmUp = warmUp
        self.requests = requests
        self.errors = errors
        self.p50Ms = p50Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.achievedRate = achievedRate
        self.targetRate = targetRate
        self.pool = pool
        self.machine = machine
        self.cpuPercent = cpuPercent
        self.errorsByKind = errorsByKind
    }
}

/// Pool metrics from the server's monitoring endpoint, flattened to `field` / `nested.field` numbers.
public struct PoolReport: Codable, Sendable, Equatable {
    /// First sample (before load started).
    public var initial: [String: Double]
    /// Last sample.
    public var final: [String: Double]
    /// Per-field maximum over the samples taken in the measured window (warm-up excluded, like every statistic and
    /// threshold); over all samples when none fell in the window. The per-second samples, warm-up included, are in
    /// the time series.
    public var peak: [String: Double]
    /// Number of successful polls.
    public var samples: Int
    /// Number of failed polls.
    public var failedPolls: Int
    public init(initial: [String: Double], final: [String: Double], peak: [String: Double], samples: Int, failedPolls: Int) {
        self.initial = initial
        self.final = final
        self.peak = peak
        self.samples = samples
        self.failedPolls = failedPolls
    }
}

/// The driver's self-check.
public struct DriverReport: Codable, Sendable, Equatable {
    /// How late the driver fired sends that were due with an idle connection, vs their intended time.
    public var schedulingLagMs: LagStats
    /// Process CPU time during the load phase (includes an in-process server, if any).
    public var cpuUserSeconds: Double
    public var cpuSystemSeconds: Double
    /// (user + system) / wall time of the load phase, in percent of one core.
    public var cpuPercent: Double
    /// True when the driver itself may have delayed requests, so latencies include driver delay: its scheduling-lag
    /// p99 exceeded `driverLimitedLagMs`, or one of its event-loop threads was busier than
    /// `driverLimitedLoopCPUPercent` (a saturated loop reads responses late, which the lag alone cannot show when every
    /// slot finds its connection busy).
    public var driverLimited: Bool
    /// Why `driverLimited` is true; `nil` when it is not (and in older results).
    public var driverLimitedReason: String?
    /// The lag bound used for `driverLimited`.
    public var driverLimitedLagMs: Double
    /// CPU of each of the driver's own event-loop threads over the load phase, in percent of one core. Unlike
    /// `cpuPercent` it leaves out an in-process server. Absent where the platform has no per-thread clock and in
    /// older results.
    public var loopCPUPercent: [Double]?
    /// The per-loop CPU bound used for `driverLimited`, in percent of one core (absent in older results).
    public var driverLimitedLoopCPUPercent: Double?
    public var eventLoopThreads: Int
    /// Connections opened, including reconnects.
    public var connectionsOpened: Int
    public var reconnects: Int
    /// Seconds spent connecting users and running their setup.
    public var setupSeconds: Double
    /// Why the load phase ended: duration, maxRequests, wallClockCap.
    public var stopReason: String
    /// The whole machine's CPU use during the load phase (Linux only; absent elsewhere and in older results).
    public var machine: MachineCPUReport?
    /// The grid paced sends were released on (`LoadRunner.Configuration.timerResolutionMs`; 0 = exact times).
    /// Latencies and scheduling lag count from intended times, so they include up to one tick of it. Absent for
    /// closed-loop runs and in older results.
    public var timerResolutionMs: Double?

    /// Why the run is driver-limited, for people: the recorded reason, or (older results) the lag bound.
    public var limitDescription: String {
        driverLimitedReason ?? Self.lagReason(p99: schedulingLagMs.p99, bound: driverLimitedLagMs)
    }

    /// Machine busy (all CPUs, percent) at or above which a late driver is the machine's limit, not its own.
    public static let machineSaturatedBusyPercent = 85.0

    /// Driver-limited while its own event loops stayed under their CPU bound and the whole machine was saturated
    /// (at least ``machineSaturatedBusyPercent`` busy): the driver fired late because the CPUs it shares with the
    /// target were all busy. Latencies still include that delay.
    public var machineLimited: Bool {
        guard driverLimited, let busy = machine?.busyPercent, busy >= Self.machineSaturatedBusyPercent else { return false }
        let bound = driverLimitedLoopCPUPercent ?? 100
        return (loopCPUPercent ?? []).allSatisfy { $0 < bound }
    }

    /// `machine-limited` or `driver-limited` with its reason; `nil` when the driver was not late.
    public var limitSummary: String? {
        guard driverLimited else { return nil }
        if machineLimited, let machine {
            return "machine-limited: the machine's CPUs were \(Int(machine.busyPercent.rounded()))% busy; \(limitDescription)"
        }
        return "driver-limited: \(limitDescription)"
    }

    /// The lag rule's reason text.
    static func lagReason(p99: Double, bound: Double) -> String {
        String(format: "scheduling lag p99 %.1f ms (bound %.1f ms)", p99, bound)
    }

    /// Applies the per-loop CPU rule: with `loopCPUPercent` recorded, a loop at or above `bound` percent of a core
    /// makes the run driver-limited (the lag rule stays as it was).
    public mutating func applyLoopCPU(_ loopCPUPercent: [Double], bound: Double) {
        self.loopCPUPercent = loopCPUPercent
        self.driverLimitedLoopCPUPercent = bound
        guard let (index, busiest) = loopCPUPercent.enumerated().max(by: { $0.element < $1.element }).map({ ($0.offset, $0.element) }),
              busiest >= bound
        else { return }
        self.driverLimited = true
        let reason = String(format: "event loop %d at %.0f%% of a core (bound %.0f%%)", index, busiest, bound)
        self.driverLimitedReason = self.driverLimitedReason.map { "\($0); \(reason)" } ?? reason
    }

    public struct LagStats: Codable, Sendable, Equatable {
        /// Sends released by their own timer (the ones whose lag is measured). A send whose slot found its
        /// connection still busy is counted late instead, and its delay is the server's, not the driver's.
        public var count: Int
        public var p50: Double
        public var p99: Double
        public var max: Double
        public init(count: Int, p50: Double, p99: Double, max: Double) {
            self.count = count
            self.p50 = p50
            self.p99 = p99
            self.max = max
        }

        /// "p50 0.6 ms, p99 2.2 ms, max 7.6 ms", or why there is nothing to show.
        public var summary: String {
            guard count > 0 else { return "n/a (no send went out on its own timer: every slot found its connection busy)" }
            func f(_ v: Double) -> String { String(format: "%.3f", v) }
            return "p50 \(f(p50)) ms, p99 \(f(p99)) ms, max \(f(max)) ms"
        }
    }

    public init(
        schedulingLagMs: LagStats, cpuUserSeconds: Double, cpuSystemSeconds: Double, cpuPercent: Double,
        driverLimited: Bool, driverLimitedReason: String? = nil, driverLimitedLagMs: Double, eventLoopThreads: Int,
        connectionsOpened: Int,
        reconnects: Int, setupSeconds: Double, stopReason: String, machine: MachineCPUReport? = nil,
        timerResolutionMs: Double? = nil
    ) {
        self.schedulingLagMs = schedulingLagMs
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.cpuPercent = cpuPercent
        self.driverLimited = driverLimited
        self.driverLimitedReason = driverLimitedReason
        self.driverLimitedLagMs = driverLimitedLagMs
        self.eventLoopThreads = eventLoopThreads
        self.connectionsOpened = connectionsOpened
        self.reconnects = reconnects
        self.setupSeconds = setupSeconds
        self.stopReason = stopReason
        self.machine = machine
        self.timerResolutionMs = timerResolutionMs
    }
}

/// One evaluated threshold.
public struct ThresholdResult: Codable, Sendable, Equatable {
    public var expression: String
    /// The measured value in the expression's unit family (ms for latencies, 0..1 fractions for rates and `%`
    /// limits, req/s for absolute rates); `nil` when the metric was unavailable (then `ok` is false).
    public var actual: Double?
    public var limit: Double
    public var ok: Bool
    /// Why `actual` is missing, when it is.
    public var note: String?
    public init(expression: String, actual: Double?, limit: Double, ok: Bool, note: String? = nil) {
        self.expression = expression
        self.actual = actual
        self.limit = limit
        self.ok = ok
        self.note = note
    }
}
