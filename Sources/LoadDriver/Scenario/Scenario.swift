/// A complete description of one load test: who the virtual users are, how hard they push, what they send and what
/// the run must achieve. `Codable` so it can live in a `--scenario-file` and be embedded verbatim in every result.
public struct Scenario: Codable, Sendable, Equatable {
    /// Name used in reports and result file names (`load_test_<name>_<users>users_...json`).
    public var name: String
    /// Number of virtual users. Each owns one keep-alive HTTP/1.1 connection with at most one request in flight.
    public var users: Int
    /// How requests are timed: paced users, constant or ramping arrival rate, or closed loop.
    public var load: LoadModel
    /// Length of the measured window in seconds (after warm-up). `nil` when the run is bounded by `maxRequests` only.
    /// Default 30.
    public var durationSeconds: Double?
    /// Stop after this many measured requests were sent. `nil` = bounded by duration only. Default `nil`.
    public var maxRequests: Int?
    /// Users connect (and run their setup) progressively over this many seconds, so thousands of connects do not
    /// overflow the server's listen queue. Load starts for everybody once all users are ready. Default 2.
    public var rampUpSeconds: Double
    /// Seconds of load before measurement starts; excluded from statistics and thresholds. Default 0.
    public var warmUpSeconds: Double
    /// Per-request timeout in seconds; a request still unanswered after this counts as a `timeout` error and its
    /// connection is re-opened. Default 10.
    public var requestTimeoutSeconds: Double
    /// Per-user variables, rendered once per user. `{{runId}}` and `{{userIndex}}` are available.
    /// Default: `username = lt-{{runId}}-{{userIndex}}`, `password = Pw-{{runId}}-{{userIndex}}!`.
    public var userVariables: [String: String]
    /// Requests each user sends once after connecting, in order, before load starts (not measured).
    public var setup: [RequestTemplate]
    /// Weighted request mix sent during the load phase.
    public var mix: [WeightedRequest]
    /// Threshold expressions evaluated on the result (see ``Threshold``).
    public var thresholds: [String]
    /// Hard wall-clock cap for the whole run (connect, setup, warm-up, load, drain). `nil` = computed:
    /// rampUp + warmUp + duration (or 600 s if unbounded) + requestTimeout + 60 s.
    public var maxWallClockSeconds: Double?

    public init(
        name: String,
        users: Int,
        load: LoadModel,
        durationSeconds: Double? = 30,
        maxRequests: Int? = nil,
        rampUpSeconds: Double = 2,
        warmUpSeconds: Double = 0,
        requestTimeoutSeconds: Double = 10,
        userVariables: [String: String] = Scenario.defaultUserVariables,
        setup: [RequestTemplate] = [],
        mix: [WeightedRequest],
        thresholds: [String] = [],
        maxWallClockSeconds: Double? = nil
    ) {
        self.name = name
        self.users = users
        self.load = load
        self.durationSeconds = durationSeconds
        self.maxRequests = maxRequests
        self.rampUpSeconds = rampUpSeconds
        self.warmUpSeconds = warmUpSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.userVariables = userVariables
        self.setup = setup
        self.mix = mix
        self.thresholds = thresholds
        self.maxWallClockSeconds = maxWallClockSeconds
    }

    /// `username = lt-{{runId}}-{{userIndex}}`, `password = Pw-{{runId}}-{{userIndex}}!`.
    public static let defaultUserVariables: [String: String] = [
        "username": "lt-{{runId}}-{{userIndex}}",
        "password": "Pw-{{runId}}-{{userIndex}}!",
    ]

    /// The total target rate in requests per second averaged over the measured window, `nil` for closed loop.
    public var targetRate: Double? {
        switch self.load {
        case .pacedUsers(let ratePerUser), .concurrentUsers(let ratePerUser):
            return ratePerUser * Double(self.users)
        case .constantArrivalRate(let rate):
            return rate
        case .rampingArrivalRate(let startRate, let stages):
            let schedule = ArrivalSchedule(model: self.load, users: self.users)
            let start = self.warmUpSeconds
            let end: Double
            if let duration = self.durationSeconds {
                end = start + duration
            } else {
                end = start + max(stages.reduce(0) { $0 + $1.durationSeconds } - start, 1)
            }
            _ = startRate
            return schedule.averageRate(from: start, to: end)
        case .closedLoop:
            return nil
        }
    }

    /// The wall-clock cap actually applied (see ``maxWallClockSeconds``).
    public var effectiveWallClockCapSeconds: Double {
        if let cap = self.maxWallClockSeconds { return cap }
        return self.rampUpSeconds + self.warmUpSeconds + (self.durationSeconds ?? 600) + self.requestTimeoutSeconds + 60
    }

    /// Checks the scenario for values the engine cannot run.
    public func validate() throws(ScenarioError) {
        func fail(_ message: String) -> ScenarioError { ScenarioError(message: message) }
        if self.name.isEmpty { throw fail("scenario name is empty") }
        if self.users < 1 { throw fail("users must be >= 1, got \(self.users)") }
        if self.durationSeconds == nil && self.maxRequests == nil {
            throw fail("either durationSeconds or maxRequests must be set")
        }
        if let d = self.durationSeconds, !(d > 0) { throw fail("durationSeconds must be > 0") }
        if let m = self.maxRequests, m < 1 { throw fail("maxRequests must be >= 1") }
        if self.rampUpSeconds < 0 || self.warmUpSeconds < 0 { throw fail("rampUp/warmUp must be >= 0") }
        if !(self.requestTimeoutSeconds > 0) { throw fail("requestTimeoutSeconds must be > 0") }
        if self.mix.isEmpty { throw fail("the request mix is empty") }
        if self.mix.contains(where: { !($0.weight > 0) }) { throw fail("mix weights must be > 0") }
        switch self.load {
        case .pacedUsers(let r), .concurrentUsers(let r):
            if !(r > 0) { throw fail("ratePerUser must be > 0") }
        case .constantArrivalRate(let r):
            if !(r > 0) { throw fail("ratePerSecond must be > 0") }
        case .rampingArrivalRate(let s, let stages):
            if s < 0 || stages.contains(where: { $0.targetRate < 0 || $0.durationSeconds < 0 }) {
                throw fail("ramping stages need rates >= 0 and durations >= 0")
            }
            if stages.isEmpty && !(s > 0) { throw fail("ramping arrival rate needs stages or a start rate > 0") }
        case .closedLoop(let think):
            if think < 0 { throw fail("thinkTimeSeconds must be >= 0") }
        }
        for t in self.setup + self.mix.map(\.request) {
            if t.name.isEmpty { throw fail("every request template needs a name") }
            if !t.path.hasPrefix("/") { throw fail("request '\(t.name)': path must start with '/'") }
        }
        for expression in self.thresholds {
            do { _ = try Threshold(parsing: expression) } catch {
                throw fail("threshold: \(error)")
            }
        }
    }
}

/// How the engine times requests.
public enum LoadModel: Codable, Sendable, Equatable {
    /// Each user sends on its own fixed timetable at `ratePerUser` requests per second; users' phases are spread
    /// evenly over one interval (the seed model, wrk2's per-connection pacing).
    case pacedUsers(ratePerUser: Double)
    /// A constant total arrival rate, distributed round-robin over the users (arrival k goes to user k mod users).
    case constantArrivalRate(ratePerSecond: Double)
    /// Piecewise-linear total arrival rate starting at `startRate`; each stage moves linearly to its `targetRate`
    /// over its duration; after the last stage the final rate holds. Stages start at the beginning of warm-up.
    case rampingArrivalRate(startRate: Double, stages: [RateStage])
    /// Closed loop: each user sends its next request `thinkTimeSeconds` after the previous response.
    case closedLoop(thinkTimeSeconds: Double)
    /// The seed's concurrent users: each user has one keep-alive connection and one request at a time, and starts a
    /// request every `1 / ratePerUser` s on its own timetable (phases spread as for ``pacedUsers(ratePerUser:)``), or
    /// at once when the previous answer came after its slot. Slots missed while waiting are skipped, never queued
    /// (counted in ``LoadTestResult/Summary/skipped``). The offered rate is users x ratePerUser; the response time
    /// the users waited is the service time, the latency from each slot (what an open arrival would see) the
    /// corrected latency.
    case concurrentUsers(ratePerUser: Double)

    /// Whether requests follow a timetable of intended send times (every model but the closed loop).
    public var isOpen: Bool {
        if case .closedLoop = self { return false }
        return true
    }

    /// Whether a user skips the slots it missed while waiting for an answer instead of sending them late.
    public var skipsMissedSlots: Bool {
        if case .concurrentUsers = self { return true }
        return false
    }
}

/// One stage of a ramping arrival rate.
public struct RateStage: Codable, Sendable, Equatable {
    public var durationSeconds: Double
    public var targetRate: Double
    public init(durationSeconds: Double, targetRate: Double) {
        self.durationSeconds = durationSeconds
        self.targetRate = targetRate
    }
}

/// A request template with its weight in the mix.
public struct WeightedRequest: Codable, Sendable, Equatable {
    /// Relative weight (> 0); weights need not sum to 100.
    public var weight: Double
    public var request: RequestTemplate
    public init(weight: Double, request: RequestTemplate) {
        self.weight = weight
        self.request = request
    }
}

/// An invalid scenario.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "invalid scenario: \(self.message)" }
}
