import Foundation

extension CapacitySearch {
    /// How the arrival rate grows from one ramp step to the next.
    public enum Growth: Sendable, Equatable, CustomStringConvertible {
        /// Add this many req/s per step.
        case step(Double)
        /// Multiply by this factor (> 1) per step.
        case factor(Double)

        public func next(after rate: Double) -> Double {
            switch self {
            case .step(let increment): return rate + increment
            case .factor(let factor): return rate * factor
            }
        }

        public var description: String {
            switch self {
            case .step(let increment): return "step +\(ReportFormat.plain(increment)) req/s"
            case .factor(let factor): return "factor x\(ReportFormat.plain(factor))"
            }
        }
    }

    /// What to search and within which bounds. Every field has a default except the thresholds and the mix.
    public struct Configuration: Sendable {
        /// Threshold expressions each step must pass, e.g. `p(95) < 50ms`, `failureRate < 1%`.
        public var thresholds: [String]
        /// The requests sent (weighted).
        public var mix: [WeightedRequest]
        /// Per-user setup before each step (not measured), e.g. register + login for a token.
        public var setup: [RequestTemplate]
        /// Virtual users (connections, at most one request in flight each): must exceed rate × latency. Default 200.
        public var users: Int
        /// First rate tried. Default 1,000 req/s.
        public var startRate: Double
        /// Ramp growth. Default x1.5 per step.
        public var growth: Growth
        /// Never ask for more than this. Default 50,000 req/s.
        public var maxRate: Double
        /// When the start rate breaks, halve down to this rate at most. Default `nil`: start rate / 16.
        public var minimumRate: Double?
        /// Measured seconds per step. Default 10.
        public var stepSeconds: Double
        /// Unmeasured load before each step's measurement. Default 2 s.
        public var warmUpSeconds: Double
        /// Users connect over this many seconds before each step. Default 1 s.
        public var rampUpSeconds: Double
        /// Per-request timeout. Default 5 s.
        public var requestTimeoutSeconds: Double
        /// Bisection steps between the last passing and the first failing rate. Default 3.
        public var bisectionSteps: Int
        /// Bisection stops once (fail - pass) / pass is at most this. Default 0.05.
        public var resolution: Double
        /// At most this many steps in total (ramp + bisection). Default 16.
        public var maxSteps: Int
        /// No step starts when the search has run this long or the next step would pass it. Default 600 s.
        public var maxTotalSeconds: Double
        /// Adds `achievedRate >= N%` (of the step's target) unless the thresholds already test `achievedRate`, so a
        /// rate the server cannot absorb never counts as held. `nil` to add nothing. Default 0.95.
        public var requiredAchievedFraction: Double?
        /// Step scenarios are named `<name>-<rate>rps`. Default `capacity`.
        public var name: String

        public init(
            thresholds: [String],
            mix: [WeightedRequest],
            setup: [RequestTemplate] = [],
            users: Int = 200,
            startRate: Double = 1000,
            growth: Growth = .factor(1.5),
            maxRate: Double = 50_000,
            minimumRate: Double? = nil,
            stepSeconds: Double = 10,
            warmUpSeconds: Double = 2,
            rampUpSeconds: Double = 1,
            requestTimeoutSeconds: Double = 5,
            bisectionSteps: Int = 3,
            resolution: Double = 0.05,
            maxSteps: Int = 16,
            maxTotalSeconds: Double = 600,
            requiredAchievedFraction: Double? = 0.95,
            name: String = "capacity"
        ) {
            self.thresholds = thresholds
            self.mix = mix
            self.setup = setup
            self.users = users
            self.startRate = startRate
            self.growth = growth
            self.maxRate = maxRate
            self.minimumRate = minimumRate
            self.stepSeconds = stepSeconds
            self.warmUpSeconds = warmUpSeconds
            self.rampUpSeconds = rampUpSeconds
            self.requestTimeoutSeconds = requestTimeoutSeconds
            self.bisectionSteps = bisectionSteps
            self.resolution = resolution
            self.maxSteps = maxSteps
            self.maxTotalSeconds = maxTotalSeconds
            self.requiredAchievedFraction = requiredAchievedFraction
            self.name = name
        }

        /// The thresholds every step is evaluated with (the configured ones plus the achieved-rate guard).
        public var effectiveThresholds: [String] {
            var all = thresholds
            if let fraction = requiredAchievedFraction {
                let mentionsAchieved = thresholds.contains { expression in
                    guard let t = try? Threshold(parsing: expression), case .request(nil, _, .achievedRate) = t.metric else { return false }
                    return true
                }
                if !mentionsAchieved { all.append("achievedRate >= \(ReportFormat.plain(fraction * 100))%") }
            }
            return all
        }

        /// `factor x1.5 from 1,000 req/s up to 50,000 req/s, 10 s per step, then up to 3 bisection steps`.
        public var strategyDescription: String {
            "\(growth) from \(ReportFormat.rate(startRate)) up to \(ReportFormat.rate(maxRate)), \(ReportFormat.plain(stepSeconds)) s per step"
                + (warmUpSeconds > 0 ? " after \(ReportFormat.plain(warmUpSeconds)) s warm-up" : "")
                + (bisectionSteps > 0 ? ", then up to \(bisectionSteps) bisection steps (resolution \(ReportFormat.plain(resolution * 100))%)" : "")
        }

        /// The scenario of one step at `rate`.
        public func scenario(rate: Double) -> Scenario {
            Scenario(
                name: "\(name)-\(Int(rate.rounded()))rps",
                users: users,
                load: .constantArrivalRate(ratePerSecond: rate),
                durationSeconds: stepSeconds,
                rampUpSeconds: rampUpSeconds,
                warmUpSeconds: warmUpSeconds,
                requestTimeoutSeconds: requestTimeoutSeconds,
                setup: setup,
                mix: mix,
                thresholds: effectiveThresholds,
                maxWallClockSeconds: rampUpSeconds + warmUpSeconds + stepSeconds + requestTimeoutSeconds + 60
            )
        }

        /// The lowest rate the descent may try.
        var effectiveMinimumRate: Double { minimumRate ?? max(1, startRate / 16) }

        /// Rough wall-clock cost of one step (before the first step has been timed).
        var estimatedStepSeconds: Double { rampUpSeconds + warmUpSeconds + stepSeconds + 1 }

        /// Checks the bounds and the thresholds.
        public func validate() throws(LoadDriverError) {
            func fail(_ m: String) -> LoadDriverError { LoadDriverError(.invalidScenario, "capacity search: " + m) }
            if thresholds.isEmpty { throw fail("give at least one threshold (e.g. 'p(95)<50ms'): it defines when a rate no longer holds") }
            do { _ = try Threshold.parseAll(effectiveThresholds) } catch { throw fail(error.description) }
            if !(startRate > 0) { throw fail("start rate must be > 0") }
            if !(maxRate >= startRate) { throw fail("max rate (\(maxRate)) must be >= start rate (\(startRate))") }
            switch growth {
            case .step(let s): if !(s > 0) { throw fail("step must be > 0 req/s") }
            case .factor(let f): if !(f > 1) { throw fail("factor must be > 1") }
            }
            if users < 1 { throw fail("users must be >= 1") }
            if !(stepSeconds > 0) { throw fail("step seconds must be > 0") }
            if maxSteps < 1 { throw fail("max steps must be >= 1") }
            if bisectionSteps < 0 { throw fail("bisection steps must be >= 0") }
            if !(maxTotalSeconds > 0) { throw fail("time budget must be > 0") }
            if mix.isEmpty { throw fail("the request mix is empty") }
        }
    }
}
