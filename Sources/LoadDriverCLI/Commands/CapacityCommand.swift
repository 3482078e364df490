import AuthScenarios
import ArgumentParser
import Foundation
import LoadDriver
import LoadReports
import Logging

/// `loaddriver capacity`: the highest constant arrival rate a (loopback) server sustains within thresholds.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find the highest arrival rate that holds every threshold (step up, then bisect).",
        discussion: """
            Runs the endpoint (or mix) at a constant arrival rate in steps — each with its own warm-up and \
            measured window — raising the rate by --step or --factor until a threshold breaks, then bisects \
            between the last rate that held and the first that broke. Reports the highest rate that held with \
            every step's summary. When the start rate already breaks, the rate is halved until one holds. An \
            'achievedRate >= 95%' threshold is added unless you give one. Bounded by \
            --max-rate, --max-steps and --max-seconds. Loopback targets only: this overloads its target on purpose.

            Examples:
              loaddriver capacity --url http://127.0.0.1:8002 --threshold 'p(95)<50ms' --threshold 'failureRate<1%'
              loaddriver capacity --url http://127.0.0.1:8002 --threshold 'p(99)<100ms' --mix verify=90,login=5,refresh=5 \\
                  --start-rate 2000 --step 2000 --max-rate 30000 --step-seconds 15 --out results/capacity

            Exit status: 0 when the search concluded (whatever it found), 2 on usage or target errors.
            """
    )

    @Option(help: "The server under test, http://host:port (loopback only).")
    var url: String

    @Option(name: .customLong("threshold"), help: "A threshold every step must hold, e.g. 'p(95)<50ms' (repeatable, at least one).")
    var thresholds: [String] = []

    @Option(help: "The endpoint to load: verify, login, refresh, register or live (GET /health/live). Default verify.")
    var endpoint: String?

    @Option(help: "A weighted mix instead of one endpoint, e.g. verify=90,login=5,refresh=5 or 'GET:/=1'.")
    var mix: String?

    @Option(help: "Virtual users (connections); must exceed rate x latency.")
    var users: Int = 200

    @Option(name: .customLong("start-rate"), help: "First rate, req/s.")
    var startRate: Double = 1000

    @Option(help: "Add this many req/s per step (instead of --factor).")
    var step: Double?

    @Option(help: "Multiply the rate by this per step (default 1.5 unless --step is given).")
    var factor: Double?

    @Option(name: .customLong("max-rate"), help: "Never ask for more than this, req/s.")
    var maxRate: Double = 50_000

    @Option(name: .customLong("min-rate"), help: "When the start rate already breaks, halve it down to this rate at most (default start rate / 16).")
    var minRate: Double?

    @Option(name: .customLong("step-seconds"), help: "Measured time per step, e.g. 10s.")
    var stepSeconds = DurationArgument(seconds: 10)

    @Option(name: .customLong("warm-up"), help: "Unmeasured load before each step's measurement, e.g. 2s.")
    var warmUp = DurationArgument(seconds: 2)

    @Option(help: "Bisection steps after the first failure.")
    var bisect: Int = 3

    @Option(name: .customLong("max-steps"), help: "At most this many steps in total.")
    var maxSteps: Int = 16

    @Option(name: .customLong("max-seconds"), help: "Time budget for the whole search, e.g. 10m.")
    var maxSeconds = DurationArgument(seconds: 600)

    @Option(help: "Event-loop threads for the virtual users.")
    var threads: Int = 1

    @Option(name: .customLong("pool-path"), help: "Pool metrics endpoint polled each second ('none' to disable).")
    var poolPath: String = RequestTemplate.authPoolMetricsPath

    @Option(help: "Write every step's result, the search summary (capacity_*.json) and report.html into this directory.")
    var out: String?

    @Flag(help: "Log the runner's progress.")
    var verbose = false

    func validate() throws {
        if thresholds.isEmpty { throw ValidationError("give at least one --threshold, e.g. --threshold 'p(95)<50ms'") }
        if step != nil && factor != nil { throw ValidationError("give --step or --factor, not both") }
        if endpoint != nil && mix != nil { throw ValidationError("give --endpoint or --mix, not both") }
        if threads < 1 { throw ValidationError("--threads must be >= 1") }
        if poolPath.isEmpty { throw ValidationError("--pool-path: give a path, or 'none' to turn pool polling off") }
        do { _ = try Target(url: url) } catch { throw ValidationError(error.description) }
    }

    func run() async throws {
        let configuration: CapacitySearch.Configuration
        let probe: LoadRunnerProbe
        var logger = Logger(label: "loaddriver.capacity")
        logger.logLevel = verbose ? .info : .warning
        do {
            let requests = try AuthMix(endpoint: endpoint, mix: mix)
            configuration = CapacitySearch.Configuration(
                thresholds: thresholds, mix: requests.mix, setup: requests.setup, users: users, startRate: startRate,
                growth: step.map { .step($0) } ?? .factor(factor ?? 1.5), maxRate: maxRate, minimumRate: minRate, stepSeconds: stepSeconds.seconds,
                warmUpSeconds: warmUp.seconds, rampUpSeconds: max(1, Double(users) / 500), bisectionSteps: bisect,
                maxSteps: maxSteps, maxTotalSeconds: maxSeconds.seconds)
            try configuration.validate()
            probe = try LoadRunnerProbe(LoadRunner.Configuration(
                target: Target(url: url), eventLoopThreads: threads, poolMonitorPath: poolPath == "none" ? nil : poolPath,
                logger: logger))
        } catch {
            ReportingOutput.error("\(error)")
            throw ExitCode(ExitCodes.usage)
        }
        let outDirectory = out.map { URL(fileURLWithPath: $0) }
        ReportingOutput.note("capacity search on \(probe.targetDescription): \(configuration.strategyDescription)")
        ReportingOutput.note("thresholds: \(configuration.effectiveThresholds.joined(separator: ", "))")
        print(CapacityTable.header)
        let search = CapacitySearch(configuration, probe: probe, environment: RunEnvironment(target: probe.targetDescription))
        let report: CapacityReport
        do {
            report = try await search.run { step, result in
                var file: String?
                if let outDirectory {
                    let name = CapacityFiles.resultFileName(result)
                    do {
                        try CapacityFiles.write(result, named: name, in: outDirectory)
                        file = name
                    } catch {
                        ReportingOutput.warn("cannot write \(name): \(error.localizedDescription)")
                    }
                }
                print(CapacityTable.row(step))
                return file
            }
        } catch {
            ReportingOutput.error("\(error)")
            throw ExitCode((error as? LoadDriverError).map(ExitCodes.code(for:)) ?? ExitCodes.failure)
        }
        print("")
        print(report.conclusion)
        if let outDirectory {
            do {
                let summary = try CapacityFiles.write(report, named: CapacityFiles.reportFileName(), in: outDirectory)
                let inputs = try ReportLoader.load([outDirectory.path])
                let html = HTMLReport(results: inputs.results, capacity: [report], title: "Capacity search").render()
                let page = outDirectory.appendingPathComponent("report.html")
                try Data(html.utf8).write(to: page, options: .atomic)
                print("summary: \(summary.path)")
                print("report:  \(page.path)")
            } catch {
                ReportingOutput.error("cannot write the summary into \(outDirectory.path): \(error)")
                throw ExitCode(ExitCodes.failure)
            }
        }
    }
}

/// The progress table printed while the search runs.
enum CapacityTable {
    static let header = pad(["step", "phase", "target", "achieved", "p50", "p95", "p99", "failed", "result"])

    static func row(_ s: CapacityStep) -> String {
        let cells = [
            String(s.index), s.phase.rawValue, ReportFormatting.rate(s.targetRate), ReportFormatting.rate(s.achievedRate),
            ReportFormatting.ms(s.latencyMs.p50), ReportFormatting.ms(s.latencyMs.p95), ReportFormatting.ms(s.latencyMs.p99),
            String(format: "%.2f%%", s.failureRate * 100), s.passed ? "held" : "broke: " + s.reasons.joined(separator: "; "),
        ]
        return pad(cells)
    }

    private static let widths = [5, 7, 14, 14, 11, 11, 11, 8, 0]

    private static func pad(_ cells: [String]) -> String {
        zip(cells, widths).map { cell, width in
            width == 0 || cell.count >= width ? cell : cell + String(repeating: " ", count: width - cell.count)
        }.joined(separator: " ")
    }
}

/// Number formatting for terminal output.
enum ReportFormatting {
    static func rate(_ v: Double) -> String { String(format: "%.0f req/s", v) }
    static func ms(_ v: Double) -> String { v >= 100 ? String(format: "%.0f ms", v) : String(format: "%.2f ms", v) }
}
