import AuthScenarios
import ArgumentParser
import Foundation
import LoadDriver
import Logging

/// `loaddriver run`: a built-in scenario, a scenario file, or one built from flags.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a load scenario and print its summary; write the result JSON to --out.",
        discussion: """
            Examples:
              loaddriver run --url http://127.0.0.1:8002 --scenario baseline
              loaddriver run --users 500 --rate 5000 --duration 30s --mix verify=90,login=5,refresh=5
              loaddriver run --users 200 --rate-per-user 10 --duration 2m --threshold 'p(95)<50ms'
              loaddriver run --users 100 --closed-loop --duration 10s --mix 'GET:/=1' --pool-path none
            Durations take 500ms, 30s, 2m or plain seconds. SIGINT/SIGTERM stops sending, waits up to 2 s for the
            requests in flight, prints the summary, writes the JSON (driver.stopReason "interrupted") and exits 105;
            a second signal exits at once.
            --mix entries are name=weight: the auth service's verify, login, refresh, register (these add the
            register+login setup) and live, or METHOD:/path (a plain request without setup).
            """
    )

    @Option(help: "Target, http://host:port (http only; request paths come from the mix).")
    var url: String = "http://127.0.0.1:8002"

    @Option(help: "Built-in scenario: quick, baseline, stress, ultimate, stressopen.")
    var scenario: String?

    @Option(help: "Scenario JSON file (schema: docs/scenario-file.md, example: docs/examples/scenario.json; the `scenario` object of a result works too).")
    var scenarioFile: String?

    @Option(help: "Number of virtual users (connections).")
    var users: Int?

    @Option(help: "Total arrival rate, req/s, spread over the users (an open model, as wrk2's -R).")
    var rate: Double?

    @Option(help: "Paced users: each user's own rate, req/s, on a fixed timetable.")
    var ratePerUser: Double?

    @Flag(help: "Closed loop: each user sends its next request after the previous response (plus --think).")
    var closedLoop = false

    @Option(help: "Closed-loop think time, e.g. 100ms.")
    var think = DurationArgument(seconds: 0)

    @Option(help: "Measured duration, e.g. 30s or 2m.")
    var duration: DurationArgument?

    @Option(help: "Stop after this many measured requests.")
    var requests: Int?

    @Option(help: "Ramp-up over which users connect, e.g. 2s.")
    var rampUp: DurationArgument?

    @Option(help: "Warm-up excluded from statistics, e.g. 2s.")
    var warmUp: DurationArgument?

    @Option(help: "Per-request timeout, e.g. 500ms.")
    var timeout: DurationArgument?

    @Option(help: "Request mix, e.g. verify=90,login=5,refresh=5 or 'GET:/=1'.")
    var mix: String?

    @Option(help: "Scenario name for reports and the result file (default: the scenario's).")
    var name: String?

    @Option(name: .customLong("threshold"), help: "Threshold expression, repeatable, e.g. 'p(95)<500ms'.")
    var thresholds: [String] = []

    @Flag(help: "Drop the scenario's own thresholds (keep only --threshold ones).")
    var noDefaultThresholds = false

    @Option(help: "Directory for the result JSON ('none' to skip writing).")
    var out: String = "results"

    @Flag(help: "Allow targets outside loopback.")
    var allowRemote = false

    @Option(help: "Event-loop threads for the virtual users.")
    var threads: Int = 1

    @Option(help: "Pool-metrics path polled every second ('none' to disable).")
    var poolPath: String = RequestTemplate.authPoolMetricsPath

    @Option(help: "Timer resolution of paced sends in ms: sends due within one tick go out together (latency still counts from each intended time); 0 = one timer per send.")
    var timerResolutionMs: Double = 1

    @Option(help: "Seconds of loopback calibration before the users connect (recorded as environment.loopbackRoundTripsPerSecond); 0 skips it. At most 5.")
    var calibrationSeconds: Double = 0.5

    @Option(name: .customLong("env"), help: "Extra environment fact KEY=VALUE for the result, repeatable.")
    var environment: [String] = []

    @Option(help: "Stop the run early when this holds, e.g. 'failureRate>50%' or 'p(95)>2s' (see --help); exit 99.")
    var abortOn: String?

    @Option(help: "Do not evaluate --abort-on during the first part of the load, e.g. 5s.")
    var abortGrace = DurationArgument(seconds: 5)

    @Flag(help: "No live progress line on standard error.")
    var quiet = false

    @Option(help: "Live progress every this long (default 2s on a terminal, 10s otherwise).")
    var progressInterval: DurationArgument?

    @Flag(help: "Log at debug level.")
    var verbose = false

    func validate() throws {
        let sources = [self.scenario != nil, self.scenarioFile != nil].filter { $0 }.count
        if sources > 1 { throw ValidationError("use either --scenario or --scenario-file, not both") }
        if let s = self.scenario, Scenario.named(s) == nil {
            throw ValidationError("unknown scenario '\(s)'; built in: \(Scenario.builtIn.keys.sorted().joined(separator: ", "))")
        }
        if sources == 0 && self.users == nil {
            throw ValidationError("give --scenario NAME, --scenario-file FILE, or at least --users")
        }
        let models = [self.rate != nil, self.ratePerUser != nil, self.closedLoop].filter { $0 }.count
        if models > 1 { throw ValidationError("--rate, --rate-per-user and --closed-loop are mutually exclusive") }
        if self.poolPath.isEmpty { throw ValidationError("--pool-path: give a path, or 'none' to turn pool polling off") }
        do { _ = try Target(url: self.url) } catch { throw ValidationError(error.description) }
        if self.threads < 1 || self.threads > 64 { throw ValidationError("--threads must be 1...64") }
        if !(0...1000).contains(self.timerResolutionMs) {
            throw ValidationError("--timer-resolution-ms must be 0...1000, got \(self.timerResolutionMs)")
        }
        if !(0...5).contains(self.calibrationSeconds) {
            throw ValidationError("--calibration-seconds must be 0...5, got \(self.calibrationSeconds)")
        }
        for t in self.thresholds {
            do { _ = try Threshold(parsing: t) } catch { throw ValidationError(error.description) }
        }
        if let mix = self.mix { _ = try Self.parseMix(mix) }
        if let abortOn = self.abortOn {
            do { _ = try AbortRule(expression: abortOn) } catch { throw ValidationError("--abort-on: \(error.description)") }
        }
    }

    static func parseMix(_ text: String) throws -> AuthMix {
        do { return try AuthMix(parsing: text) } catch { throw ValidationError(error.description) }
    }

    func buildScenario() throws -> Scenario {
        var s: Scenario
        if let name = self.scenario {
            s = Scenario.named(name)!
        } else if let file = self.scenarioFile {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                throw ValidationError("cannot read scenario file \(file): \(error.localizedDescription)")
            }
            do { s = try JSONDecoder().decode(Scenario.self, from: data) } catch {
                if let r = try? LoadTestResult.decode(from: data) { s = r.scenario } else {
                    throw ValidationError("scenario file \(file) is not a valid scenario: \(error)")
                }
            }
        } else {
            s = Scenario.authService(name: "custom", users: self.users ?? 1, durationSeconds: self.duration?.seconds ?? 30)
            s.thresholds = []
        }
        if let users = self.users {
            s.users = users
            s.rampUpSeconds = self.rampUp?.seconds ?? max(0.5, Double(users) / 500)
        }
        if let r = self.rate { s.load = .constantArrivalRate(ratePerSecond: r) }
        if let r = self.ratePerUser { s.load = .pacedUsers(ratePerUser: r) }
        if self.closedLoop { s.load = .closedLoop(thinkTimeSeconds: self.think.seconds) }
        if let d = self.duration { s.durationSeconds = d.seconds }
        if let n = self.requests {
            s.maxRequests = n
            if self.duration == nil && self.scenario == nil && self.scenarioFile == nil { s.durationSeconds = nil }
        }
        if let r = self.rampUp { s.rampUpSeconds = r.seconds }
        if let w = self.warmUp { s.warmUpSeconds = w.seconds }
        if let t = self.timeout { s.requestTimeoutSeconds = t.seconds }
        if let m = self.mix {
            let parsed = try Self.parseMix(m)
            s.mix = parsed.mix
            s.setup = parsed.setup
        }
        if let n = self.name { s.name = n }
        if self.noDefaultThresholds { s.thresholds = [] }
        s.thresholds += self.thresholds
        s.maxWallClockSeconds = nil
        do { try s.validate() } catch { throw ValidationError(error.description) }
        return s
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var logger = Logger(label: "loaddriver")
        logger.logLevel = self.verbose ? .debug : .info
        let scenario = try self.buildScenario()
        let target: Target
        do { target = try Target(url: self.url) } catch {
            printError(error.description)
            throw ExitCode(ExitCodes.usage)
        }
        do {
            try ProcessResources.raiseFileDescriptorLimit(needed: ProcessResources.fileDescriptorsNeeded(users: scenario.users))
        } catch {
            printError(error.description)
            throw ExitCode(ExitCodes.usage)
        }
        var env = RunEnvironment()
        for kv in self.environment {
            let parts = kv.split(separator: "=", maxSplits: 1)
            env.extra[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        var config = LoadRunner.Configuration(
            target: target, eventLoopThreads: self.threads,
            poolMonitorPath: self.poolPath == "none" ? nil : self.poolPath, logger: logger,
            allowRemote: self.allowRemote, environment: env, timerResolutionMs: self.timerResolutionMs,
            calibrationSeconds: self.calibrationSeconds)
        let stopper = RunStopper()
        config.stopper = stopper
        let progress = self.quiet ? nil : ProgressLine(interval: self.progressInterval?.seconds)
        let abort = try self.abortOn.map { expression in
            do { return AbortWatch(try AbortRule(expression: expression, graceSeconds: self.abortGrace.seconds)) } catch {
                throw ValidationError("--abort-on: \(error)")
            }
        }
        if progress != nil || abort != nil {
            // --abort-on looks every second; the progress line still shows at its own interval.
            config.progressIntervalSeconds = abort != nil ? min(1, progress?.interval ?? 1) : progress!.interval
            config.onProgress = { live in
                progress?.show(live)
                if let abort, abort.check(live) { stopper.stop(reason: "aborted") }
            }
        }
        let signals = SignalStop(stopper: stopper)
        defer { signals.cancel() }
        var result: LoadTestResult
        do {
            result = try await LoadRunner(config).run(scenario)
        } catch {
            progress?.finish()
            printError(error.description)
            throw ExitCode(ExitCodes.code(for: error))
        }
        progress?.finish()
        if let abort, let triggered = abort.triggered {
            result.record([triggered])
            printError("aborted: \(triggered.note ?? triggered.expression)")
        }
        print(result.summaryTable(), terminator: "")
        if self.out != "none" {
            do {
                let url = try result.write(toDirectory: URL(fileURLWithPath: self.out))
                print("result: \(url.path)")
            } catch {
                printError("cannot write the result to \(self.out): \(error)")
                throw ExitCode(ExitCodes.failure)
            }
        }
        if stopper.reason == "interrupted" {
            printError("interrupted: stopped after \(result.summary.requests) requests; the summary covers what ran")
            throw ExitCode(ExitCodes.interrupted)
        }
        if !result.passed { throw ExitCode(ExitCodes.thresholdsFailed) }
    }
}
