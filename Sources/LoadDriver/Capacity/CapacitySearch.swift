import Foundation

/// Runs one step's scenario. ``LoadRunnerProbe`` is the real one; tests substitute their own.
public protocol CapacityProbe: Sendable {
    func run(_ scenario: Scenario) async throws -> LoadTestResult
    /// `host:port` for the report.
    var targetDescription: String { get }
}

/// Runs steps with a ``LoadRunner`` — loopback targets only, whatever the configuration says.
public struct LoadRunnerProbe: CapacityProbe {
    public let runner: LoadRunner

    /// - Throws: ``LoadDriverError/Code/remoteTargetRefused`` for a target outside loopback: a capacity search
    ///   overloads its target on purpose.
    public init(_ configuration: LoadRunner.Configuration) throws(LoadDriverError) {
        guard configuration.target.isLoopback else {
            throw LoadDriverError(
                .remoteTargetRefused,
                "capacity search refuses \(configuration.target): it overloads its target on purpose, so only loopback targets (127.0.0.0/8, ::1, localhost) are allowed")
        }
        var configuration = configuration
        configuration.allowRemote = false
        self.runner = LoadRunner(configuration)
    }

    public func run(_ scenario: Scenario) async throws -> LoadTestResult {
        try await runner.run(scenario)
    }

    public var targetDescription: String { runner.configuration.target.description }
}

/// Finds the highest constant arrival rate a server sustains within thresholds: steps the rate up (by a fixed step or
/// a factor) until a step breaks a threshold, then bisects between the last passing and the first failing rate. When
/// the start rate already breaks, it halves the rate (down to the minimum rate) until one holds, then bisects.
/// Bounded in steps and in time; each step is a full ``LoadRunner`` run with its own warm-up.
///
/// ```swift
/// let search = CapacitySearch(configuration, probe: try LoadRunnerProbe(.init(url: "http://127.0.0.1:8002")))
/// let report = try await search.run()
/// report.highestPassingRate  // e.g. 7,350 req/s
/// ```
public struct CapacitySearch: Sendable {
    public let configuration: Configuration
    public let probe: any CapacityProbe
    /// Facts recorded in the report's environment.
    public var environment: RunEnvironment

    public init(_ configuration: Configuration, probe: any CapacityProbe, environment: RunEnvironment = RunEnvironment()) {
        self.configuration = configuration
        self.probe = probe
        self.environment = environment
    }

    /// Runs the search. `onStep` sees each step as it completes (with its full result) and may return the name of
    /// the file it stored the result in, which the step then records.
    ///
    /// - Throws: ``LoadDriverError`` for an invalid configuration, or the probe's error when a step cannot run at
    ///   all (e.g. the target refuses connections). A failing server is never thrown: it is a failed step.
    public func run(
        onStep: (@Sendable (CapacityStep, LoadTestResult) async -> String?)? = nil
    ) async throws -> CapacityReport {
        let config = configuration
        try config.validate()
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = ISO8601DateFormatter().string(from: Date())
        var steps: [CapacityStep] = []
        var lastPass: Double?
        var firstFail: Double?
        var slowestStep = config.estimatedStepSeconds
        var stop: CapacityStopReason?

        func elapsed() -> Double {
            (clock.now - start) / .seconds(1)
        }

        /// Runs one step; `nil` when a budget forbids it (and `stop` is set).
        func step(_ rate: Double, _ phase: CapacityStep.Phase) async throws -> CapacityStep? {
            if steps.count >= config.maxSteps {
                stop = .maxStepsReached
                return nil
            }
            if elapsed() + slowestStep > config.maxTotalSeconds {
                stop = .timeBudgetExhausted
                return nil
            }
            try Task.checkCancellation()
            let stepStart = clock.now
            let result = try await probe.run(config.scenario(rate: rate))
            let wall = (clock.now - stepStart) / .seconds(1)
            slowestStep = max(slowestStep, wall)
            var s = CapacityStep(index: steps.count + 1, phase: phase, result: result, wallSeconds: wall)
            s.targetRate = rate
            if let file = await onStep?(s, result) { s.resultFile = file }
            steps.append(s)
            return s
        }

        /// A step that passed its thresholds but was driver-limited proves nothing about the server.
        func inconclusive(_ s: CapacityStep) -> Bool { s.driverLimited && s.thresholds.allSatisfy(\.ok) }

        // Ramp.
        var rate = config.startRate
        ramp: while stop == nil {
            guard let s = try await step(rate, .ramp) else { break }
            if inconclusive(s) {
                stop = .driverLimited
                break ramp
            }
            if s.passed {
                lastPass = rate
                if rate >= config.maxRate {
                    stop = .maxRateReached
                    break ramp
                }
                rate = min(config.growth.next(after: rate), config.maxRate)
            } else {
                firstFail = rate
                break ramp
            }
        }
        // The start rate already broke: step down (halving) until a rate holds.
        if stop == nil, var down = firstFail, lastPass == nil {
            down /= 2
            descend: while stop == nil, down >= config.effectiveMinimumRate {
                guard let s = try await step(Self.roundRate(down), .descend) else { break }
                if inconclusive(s) {
                    stop = .driverLimited
                    break descend
                }
                if s.passed {
                    lastPass = s.targetRate
                    break descend
                }
                firstFail = s.targetRate
                down = s.targetRate / 2
            }
            if stop == nil, lastPass == nil { stop = .failedAtStartRate }
        }

        // Bisect.
        if stop == nil, var lo = lastPass, var hi = firstFail {
            var done = 0
            while done < config.bisectionSteps, (hi - lo) / lo > config.resolution {
                let mid = Self.roundRate((lo + hi) / 2)
                guard mid > lo, mid < hi else { break }
                guard let s = try await step(mid, .bisect) else { break }
                done += 1
                if inconclusive(s) {
                    stop = .driverLimited
                    break
                }
                if s.passed { lo = mid } else { hi = mid }
            }
            lastPass = lo
            firstFail = hi
            if stop == nil || stop == .maxStepsReached || stop == .timeBudgetExhausted {
                // The bracket exists: the search answered, budgets only limited its resolution.
                stop = .thresholdBroken
            }
        }
        let reason = stop ?? .maxStepsReached
        return CapacityReport(
            target: probe.targetDescription, mix: ScenarioDescription.mix(config.scenario(rate: config.startRate)),
            users: config.users, thresholds: config.effectiveThresholds, strategy: config.strategyDescription,
            startedAt: startedAt, elapsedSeconds: elapsed(), steps: steps, highestPassingRate: lastPass,
            lowestFailingRate: firstFail, stopReason: reason,
            conclusion: Self.conclusion(reason: reason, pass: lastPass, fail: firstFail, steps: steps, config: config),
            environment: environment)
    }

    /// Rounds to three significant digits (7,345.6 → 7,350), so bisection rates read well.
    package static func roundRate(_ rate: Double) -> Double {
        guard rate >= 100 else { return rate.rounded() }
        let granularity = pow(10, floor(log10(rate)) - 2)
        return (rate / granularity).rounded() * granularity
    }

    static func conclusion(reason: CapacityStopReason, pass: Double?, fail: Double?, steps: [CapacityStep], config: Configuration) -> String {
        let failing = fail.flatMap { f in steps.last { $0.targetRate == f && !$0.passed } }
        let why = failing.map { ": " + $0.reasons.joined(separator: "; ") } ?? ""
        let held = pass.map { "Held \(ReportFormat.rate($0)) within every threshold" } ?? "No rate held"
        switch reason {
        case .thresholdBroken:
            return "\(held); \(ReportFormat.rate(fail ?? 0)) broke\(why)."
        case .failedAtStartRate:
            return "Even the lowest rate tried, \(ReportFormat.rate(fail ?? config.startRate)), broke\(why). Lower the start (or minimum) rate."
        case .maxRateReached:
            return "\(held) up to the maximum asked for: the capacity is at least \(ReportFormat.rate(pass ?? config.maxRate)); raise the maximum rate to search further."
        case .driverLimited:
            let limited = steps.last { $0.driverLimited }
            return "\(held); at \(ReportFormat.rate(limited?.targetRate ?? 0)) the load generator itself fell behind (scheduling lag p99 \(ReportFormat.ms(limited?.schedulingLagP99Ms ?? 0))), so the server's capacity is at least \(ReportFormat.rate(pass ?? 0)) and the driver is the limit."
        case .maxStepsReached:
            return "\(held); the step budget (\(config.maxSteps)) ran out before a threshold broke."
        case .timeBudgetExhausted:
            return "\(held); the time budget (\(ReportFormat.duration(config.maxTotalSeconds))) ran out before a threshold broke."
        }
    }
}
