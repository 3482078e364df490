import Logging

extension LoadRunner {
    /// How the runner reaches the target and checks itself. Every field has a default except the target.
    public struct Configuration: Sendable {
        /// The server under test.
        public var target: Target
        /// Event-loop threads for the virtual users (users are spread round-robin). Default 1.
        public var eventLoopThreads: Int
        /// Path polled once per second for pool metrics (JSON; numeric fields flattened with dots), or `nil` to
        /// disable monitoring. Default `/health/redis`.
        public var poolMonitorPath: String?
        /// Logger for progress and problems. Default: a logger labelled `LoadDriver` (swift-log's bootstrap decides
        /// where it goes).
        public var logger: Logger
        /// Allow targets outside loopback (127.0.0.0/8, ::1, localhost). Default `false`.
        public var allowRemote: Bool
        /// TCP connect timeout. Default 2 s.
        public var connectTimeoutSeconds: Double
        /// Extra time after ramp-up for all users to finish their setup before load starts anyway. Default 60 s.
        public var setupTimeoutSeconds: Double
        /// `driverLimited` is reported when the p99 of the driver's scheduling lag exceeds this. Default 10 ms:
        /// above it the driver's own delay is a visible part of typical latencies.
        public var driverLimitedLagMs: Double
        /// `driverLimited` is also reported when one of the driver's event-loop threads used at least this much CPU
        /// over the load, in percent of one core. Default 90: a loop that busy reads responses late.
        public var driverLimitedLoopCPUPercent: Double
        /// Error samples kept per error kind. Default 10.
        public var maxErrorSamplesPerKind: Int
        /// Raise RLIMIT_NOFILE's soft limit and fail early when the hard limit is below what the users need.
        /// Default `true`.
        public var checkFileDescriptorLimit: Bool
        /// Facts added to the result's `environment`. Default: detected values, empty `extra`.
        public var environment: RunEnvironment
        /// Resolution of the send timers of paced and arrival-rate users, in milliseconds. Default `1`.
        ///
        /// Sends come due at their exact intended times; the driver releases them on a grid of this resolution, so
        /// every send due within one tick goes out together at the tick's end, in one wake-up of the event loop
        /// instead of one wake-up per request. Latency still counts from each request's own intended time: the grid
        /// adds at most one tick to a reported latency and never hides one. `0` arms one timer per send at its exact
        /// time: on the 2-core reference machine that cost 10-15 points of machine CPU at 5,000 req/s (README).
        /// Above `0`, the same tick reads paced and arrival-rate users' responses (``TickPoller``), each timed by the
        /// kernel's receive timestamp. Closed-loop users do not use it.
        public var timerResolutionMs: Double
        /// Seconds of ``LoopbackCalibration`` before the users connect (the target still idle), recorded as
        /// `environment.loopbackRoundTripsPerSecond`; `0` skips it. Default 0.5, at most 5.
        public var calibrationSeconds: Double
        /// Called once, just before the load phase starts, with how long until its second 0 (the clock of
        /// `timeSeries` and ``RunEvent/atSeconds``): lets a caller time faults and marks against the result's own
        /// seconds. Called on a Swift concurrency thread; must not block. Default `nil`.
        public var onLoadStart: (@Sendable (_ secondZeroIn: Duration) -> Void)?
        /// Lets a caller stop the run early (``RunStopper``, e.g. on SIGINT). Default `nil`.
        public var stopper: RunStopper?
        /// Called every ``progressIntervalSeconds`` of the load phase with the run's ``RunProgress``, on a Swift
        /// concurrency thread; must not block. Default `nil` (no progress).
        public var onProgress: (@Sendable (RunProgress) -> Void)?
        /// Period of ``onProgress`` and the window its rate and p95 cover. Default 2 s.
        public var progressIntervalSeconds: Double = 2

        public init(
            target: Target,
            eventLoopThreads: Int = 1,
            poolMonitorPath: String? = nil,
            logger: Logger = Logger(label: "LoadDriver"),
            allowRemote: Bool = false,
            connectTimeoutSeconds: Double = 2,
            setupTimeoutSeconds: Double = 60,
            driverLimitedLagMs: Double = 10,
            driverLimitedLoopCPUPercent: Double = 90,
            maxErrorSamplesPerKind: Int = 10,
            checkFileDescriptorLimit: Bool = true,
            environment: RunEnvironment = RunEnvironment(),
            timerResolutionMs: Double = 1,
            calibrationSeconds: Double = 0.5
        ) {
            self.target = target
            self.eventLoopThreads = eventLoopThreads
            self.poolMonitorPath = poolMonitorPath
            self.logger = logger
            self.allowRemote = allowRemote
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.setupTimeoutSeconds = setupTimeoutSeconds
            self.driverLimitedLagMs = driverLimitedLagMs
            self.driverLimitedLoopCPUPercent = driverLimitedLoopCPUPercent
            self.maxErrorSamplesPerKind = maxErrorSamplesPerKind
            self.checkFileDescriptorLimit = checkFileDescriptorLimit
            self.environment = environment
            self.timerResolutionMs = timerResolutionMs
            self.calibrationSeconds = calibrationSeconds
        }

        /// Convenience: parse `url` (`http://host:port`).
        public init(url: String, eventLoopThreads: Int = 1, poolMonitorPath: String? = nil,
                    logger: Logger = Logger(label: "LoadDriver"), allowRemote: Bool = false) throws(LoadDriverError) {
            self.init(target: try Target(url: url), eventLoopThreads: eventLoopThreads, poolMonitorPath: poolMonitorPath,
                      logger: logger, allowRemote: allowRemote)
        }
    }
}
