import AuthScenarios
import AuthServiceUnderTest
import LoadDriver

/// One row of the suite's scenario table: the load, the server it runs against, and what must hold.
///
/// The seed scenarios are one declaration each (see `PerformanceTests`); everything else lives in
/// ``PerformanceHarness``.
public struct PerformanceScenario: Sendable {
    /// The driver's scenario: users, load model, duration, mix and threshold expressions.
    public var scenario: Scenario
    /// The in-process server's configuration. Default: the load-test profile (1 worker, pool of 160, 1,000 PBKDF2
    /// iterations) on port 0.
    public var server: AuthServiceConfiguration
    /// Redis commands each endpoint sends on its success path, by the driver's endpoint name. Default: the service's
    /// documented counts (``AuthRedisCommands``).
    public var redisCommandsPerEndpoint: [String: Int]
    /// Allowed relative deviation of measured Redis commands per request from the expected value. Default 1%.
    public var commandsPerRequestTolerance: Double
    /// Pool leases (round trips) each endpoint takes on its success path. Default ``AuthRedisCommands/roundTrips``.
    public var roundTripsPerEndpoint: [String: Int]
    /// The most Redis connections the service may open, as this scenario declares it (the seed's 160), independent of
    /// the configuration under test: a configuration that drifts is caught, not trusted. Default 160.
    public var redisConnectionLimit: Int
    /// Gate against the stored baseline of the same name when one exists. Default `true`.
    public var comparesWithBaseline: Bool
    /// Scale the duration by `PERF_DURATION_SCALE`. Default `true`; count-bounded scenarios ignore it.
    public var scalesDuration: Bool
    /// Check the Redis-counter gates (commands per request, connections opened). Default `true`; fault scenarios that
    /// restart Redis or kill its connections turn them off (the leaked-lease gate always applies).
    public var checksRedisCounters: Bool
    /// How the scenario's redis-server is started. Default: no persistence (tests measure the service, not the disk).
    public var redis: RedisServerProcess.Configuration

    public init(
        _ scenario: Scenario,
        server: AuthServiceConfiguration = PerformanceScenario.defaultServer,
        redisCommandsPerEndpoint: [String: Int] = PerformanceScenario.authRedisCommands,
        commandsPerRequestTolerance: Double = 0.01,
        comparesWithBaseline: Bool = true,
        scalesDuration: Bool = true,
        checksRedisCounters: Bool = true
    ) {
        self.scenario = scenario
        self.server = server
        self.redisCommandsPerEndpoint = redisCommandsPerEndpoint
        self.commandsPerRequestTolerance = commandsPerRequestTolerance
        self.roundTripsPerEndpoint = AuthRedisCommands.roundTrips
        self.redisConnectionLimit = 160
        self.comparesWithBaseline = comparesWithBaseline
        self.scalesDuration = scalesDuration
        self.checksRedisCounters = checksRedisCounters
        self.redis = RedisServerProcess.Configuration()
    }

    /// Whether the run's verdict gates anything: ``LoadTestResult/Role/reference`` for a side measured only to
    /// compare with another. Default ``LoadTestResult/Role/gated``.
    public var role: LoadTestResult.Role = .gated

    public var name: String { scenario.name }

    /// The production-like server every seed scenario runs against: 1 event-loop worker (as the seed), a pool of 160,
    /// the load-test hash profile, an ephemeral port.
    public static var defaultServer: AuthServiceConfiguration {
        var configuration = AuthServiceConfiguration.loadTest
        configuration.port = 0
        configuration.workers = 1
        configuration.pool.maximumConnections = 160
        return configuration
    }

    public static let authRedisCommands: [String: Int] = [
        "verify": AuthRedisCommands.verify,
        "login": AuthRedisCommands.login,
        "refresh": AuthRedisCommands.refresh,
        "logout": AuthRedisCommands.logout,
        "register": AuthRedisCommands.register,
    ]

    /// Users on a fixed open timetable at `ratePerUser` each (``LoadModel/pacedUsers(ratePerUser:)``: a slot missed
    /// while waiting is sent late, never skipped) with the seed mix (90% verify, 5% login, 5% refresh): the fault
    /// scenarios' load, which keeps arriving whatever the server does.
    public static func pacedUsers(
        _ name: String, users: Int, ratePerUser: Double = 10, seconds: Double, thresholds: [String]
    ) -> PerformanceScenario {
        PerformanceScenario(
            .authService(
                name: name, users: users, load: .pacedUsers(ratePerUser: ratePerUser), durationSeconds: seconds,
                thresholds: thresholds))
    }

    /// A fixed number of requests from `users` closed-loop users (the seed's quick validation).
    public static func requestCount(
        _ name: String, users: Int, requests: Int, thresholds: [String]
    ) -> PerformanceScenario {
        var scenario = Scenario.quick
        scenario.name = name
        scenario.users = users
        scenario.maxRequests = requests
        scenario.thresholds = thresholds
        // A closed-loop burst of a few hundred milliseconds: its rate and latency swing ±20% from run to run here, so
        // a baseline comparison would only report noise. Its gate is its thresholds and the deterministic gates.
        return PerformanceScenario(scenario, comparesWithBaseline: false, scalesDuration: false)
    }
}
