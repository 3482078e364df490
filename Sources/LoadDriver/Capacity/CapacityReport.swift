import Foundation

/// The outcome of a ``CapacitySearch``: every step's summary and the highest arrival rate that held. Codable JSON
/// (`kind: "capacity"`), written by `loaddriver capacity` next to each step's full result.
public struct CapacityReport: Codable, Sendable, Equatable {
    public static let kindName = "capacity"

    /// Always `capacity` (tells the report loader this is not a load-test result).
    public var kind: String
    public var schemaVersion: Int
    /// `host:port` of the server searched.
    public var target: String
    /// The endpoint or mix searched, e.g. `verify 100%`.
    public var mix: String
    public var users: Int
    /// Threshold expressions every step had to pass (including an added `achievedRate` one, if any).
    public var thresholds: [String]
    /// `step +500 req/s`, `factor x1.5`, and the bisection budget.
    public var strategy: String
    public var startedAt: String
    public var elapsedSeconds: Double
    /// Steps in the order they ran.
    public var steps: [CapacityStep]
    /// The highest rate whose step passed every threshold; `nil` when even the first step failed.
    public var highestPassingRate: Double?
    /// The lowest rate whose step failed; `nil` when nothing failed.
    public var lowestFailingRate: Double?
    /// Why the search stopped (see ``CapacityStopReason``).
    public var stopReason: CapacityStopReason
    /// One sentence: what was found and what bounds it.
    public var conclusion: String
    public var environment: RunEnvironment

    public init(
        target: String, mix: String, users: Int, thresholds: [String], strategy: String, startedAt: String,
        elapsedSeconds: Double, steps: [CapacityStep], highestPassingRate: Double?, lowestFailingRate: Double?,
        stopReason: CapacityStopReason, conclusion: String, environment: RunEnvironment
    ) {
        self.kind = Self.kindName
        self.schemaVersion = 1
        self.target = target
        self.mix = mix
        self.users = users
        self.thresholds = thresholds
        self.strategy = strategy
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.steps = steps
        self.highestPassingRate = highestPassingRate
        self.lowestFailingRate = lowestFailingRate
        self.stopReason = stopReason
        self.conclusion = conclusion
        self.environment = environment
    }
}

/// Why a capacity search stopped.
public enum CapacityStopReason: String, Codable, Sendable, Equatable {
    /// A step failed and the bisection between the last pass and the first failure is done.
    case thresholdBroken
    /// Every step up to `maxRate` passed: the capacity is at least `maxRate`.
    case maxRateReached
    /// The step budget ran out before a conclusion.
    case maxStepsReached
    /// The time budget ran out before a conclusion.
    case timeBudgetExhausted
    /// The driver could not generate the load honestly (scheduling lag): the server was not the limit.
    case driverLimited
    /// The start rate broke and so did every lower rate tried, down to the minimum rate.
    case failedAtStartRate
}

/// One step of a capacity search: a constant arrival rate held for a while, and how it went.
public struct CapacityStep: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable, Equatable {
        /// Stepping up from the start rate.
        case ramp
        /// Halving the rate because the start rate already broke.
        case descend
        /// Bisecting between the last passing and the first failing rate.
        case bisect
    }

    public var index: Int
    public var phase: Phase
    public var targetRate: Double
    public var achievedRate: Double
    public var passed: Bool
    /// The failed thresholds as `expression (actual …)`, or why the step does not count.
    public var reasons: [String]
    public var requests: Int
    public var failed: Int
    public var failureRate: Double
    public var latencyMs: LatencyStats
    public var late: Int
    public var dropped: Int
    public var driverLimited: Bool
    public var schedulingLagP99Ms: Double
    /// Peak pool utilization (0...1) when the server reported it.
    public var poolPeakUtilization: Double?
    public var thresholds: [ThresholdResult]
    public var measuredSeconds: Double
    /// Wall-clock seconds the step took, setup included.
    public var wallSeconds: Double
    /// File name of the step's full result, when written.
    public var resultFile: String?

    public init(index: Int, phase: Phase, result: LoadTestResult, wallSeconds: Double, resultFile: String? = nil) {
        self.index = index
        self.phase = phase
        self.targetRate = result.scenario.targetRate ?? result.summary.targetRate ?? 0
        self.achievedRate = result.summary.achievedRate
        self.requests = result.summary.requests
        self.failed = result.summary.failed
        self.failureRate = result.summary.failureRate
        self.latencyMs = result.summary.latencyMs
        self.late = result.summary.late
        self.dropped = result.summary.dropped
        self.driverLimited = result.driver.driverLimited
        self.schedulingLagP99Ms = result.driver.schedulingLagMs.p99
        self.poolPeakUtilization = result.pool?.peak[PoolField.utilization]
        self.thresholds = result.thresholds
        self.measuredSeconds = result.summary.measuredSeconds
        self.wallSeconds = wallSeconds
        self.resultFile = resultFile
        var reasons = result.thresholds.filter { !$0.ok }.map { t in
            "\(t.expression) (actual \(ReportFormat.thresholdValue(t.actual, expression: t.expression))\(t.note.map { "; " + $0 } ?? ""))"
        }
        if result.driver.driverLimited {
            reasons.append("driver-limited by \(result.driver.limitDescription)")
        }
        if result.summary.requests == 0 {
            reasons.append("no request completed")
        }
        self.reasons = reasons
        self.passed = reasons.isEmpty
    }
}
