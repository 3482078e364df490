#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LoadDriver
import NIOCore
import PerformanceSupport
import Testing

/// The `loaddriver` executable as a user meets it: signals, exit codes, units, rejected input.
@Suite("loaddriver CLI behaviour", .serialized, .timeLimit(.minutes(2)))
struct CLIBehaviourTests {
    struct Outcome {
        var status: Int32?
        var stdout: String
        var stderr: String
        var results: [LoadTestResult]
    }

    /// Runs `loaddriver` with `arguments` (plus `--out DIR` for `run`), calling `during` with the child once it runs.
    static func run(
        _ arguments: [String], within timeout: Duration = .seconds(30),
        during: (ChildProcess) async throws -> Void = { _ in }
    ) async throws -> Outcome {
        let directory = try BuiltExecutables.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("results")
        let stdout = directory.appendingPathComponent("stdout")
        let stderr = directory.appendingPathComponent("stderr")
        let child = try ChildProcess.spawn(
            try BuiltExecutables.path("loaddriver"), arguments + (arguments.first != "run" || arguments.contains("--out") ? [] : ["--out", out.path]),
            standardOutput: stdout.path, standardError: stderr.path)
        do { try await during(child) } catch {
            child.signal(SIGKILL)
            _ = await child.waitForExit(within: .seconds(5))
            throw error
        }
        let status = await child.waitForExit(within: timeout)
        if status == nil {
            child.signal(SIGKILL)
            _ = await child.waitForExit(within: .seconds(5))
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasSuffix(".json") }
        return Outcome(
            status: status,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? "",
            results: try files.map { try LoadTestResult.decode(from: Data(contentsOf: out.appendingPathComponent($0))) })
    }

    static func load(_ url: String, _ extra: [String]) -> [String] {
        ["run", "--url", url, "--users", "4", "--ramp-up", "100ms", "--warm-up", "0", "--mix", "GET:/work=1",
         "--pool-path", "none", "--calibration-seconds", "0"] + extra
    }

    @Test func sigintStopsTheRunPrintsTheSummaryWritesTheJSONAndExits105() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(5)))
        defer { Task { try? await server.shutdown() } }
        let clock = ContinuousClock()
        var signalledAt = clock.now
        let outcome = try await Self.run(Self.load(server.url, ["--rate", "100", "--duration", "30s", "--name", "cli-sigint"])) { child in
            try await Task.sleep(for: .seconds(2))
            signalledAt = clock.now
            child.signal(SIGINT)
        }
        #expect(outcome.status == 105, "exit \(String(describing: outcome.status)); stderr: \(outcome.stderr)")
        #expect(clock.now - signalledAt < .seconds(5), "took \(clock.now - signalledAt) after SIGINT")
        #expect(outcome.stdout.contains("stop: interrupted"), "stdout: \(outcome.stdout)")
        #expect(outcome.stdout.contains("RESULT:"), "no summary: \(outcome.stdout)")
        #expect(outcome.stderr.contains("interrupted"), "stderr: \(outcome.stderr)")
        let result = try #require(outcome.results.first, "no JSON written")
        #expect(result.driver.stopReason == "interrupted")
        #expect(result.summary.requests > 50, "requests \(result.summary.requests)")
        #expect(result.summary.measuredSeconds < 10)
    }

    @Test func aSecondSignalQuitsAtOnceWritingNothing() async throws {
        // Every response takes 10 s: after the first SIGTERM the run would wait its 2 s for them.
        let server = try await TestHTTPServer(behavior: .init(delay: .seconds(10)))
        defer { Task { try? await server.shutdown() } }
        let clock = ContinuousClock()
        var secondAt = clock.now
        let outcome = try await Self.run(
            Self.load(server.url, ["--rate", "20", "--duration", "30s", "--timeout", "20s"])
        ) { child in
            try await Task.sleep(for: .milliseconds(1_500))
            child.signal(SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            secondAt = clock.now
            child.signal(SIGTERM)
        }
        #expect(outcome.status == 105, "exit \(String(describing: outcome.status)); stderr: \(outcome.stderr)")
        #expect(clock.now - secondAt < .seconds(1), "took \(clock.now - secondAt) after the second signal")
        #expect(outcome.stderr.contains("quitting at once"), "stderr: \(outcome.stderr)")
        #expect(outcome.results.isEmpty)
    }

    @Test func rateIsTheTotalArrivalRateAndRatePerUserEachUsers() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        let total = try await Self.run(Self.load(server.url, ["--rate", "200", "--duration", "1500ms"]))
        #expect(total.status == 0, "stderr: \(total.stderr)")
        let perUser = try await Self.run(Self.load(server.url, ["--rate-per-user", "5", "--duration", "1.5"]))
        #expect(perUser.status == 0, "stderr: \(perUser.stderr)")
        let totalResult = try #require(total.results.first)
        let perUserResult = try #require(perUser.results.first)
        #expect(totalResult.summary.targetRate == 200)
        #expect(totalResult.scenario.durationSeconds == 1.5)
        #expect(perUserResult.summary.targetRate == 20)  // 4 users x 5 req/s
        #expect(perUserResult.scenario.durationSeconds == 1.5)
    }

    @Test(arguments: [
        (["--duration", "2x"], "--duration"),
        (["--duration", "-1s"], "--duration"),
        (["--url", "http://127.0.0.1:9/api"], "path"),
        (["--pool-path", ""], "none"),
        (["--rate", "10", "--rate-per-user", "1"], "mutually exclusive"),
    ])
    func usageErrorsExit2WithAMessage(arguments: [String], message: String) async throws {
        let outcome = try await Self.run(["run", "--users", "1", "--url", "http://127.0.0.1:9"] + arguments)
        #expect(outcome.status == 2, "exit \(String(describing: outcome.status)); stderr: \(outcome.stderr)")
        #expect(outcome.stderr.contains(message), "stderr: \(outcome.stderr)")
        #expect(outcome.results.isEmpty)
    }

    @Test func aResultThatCannotBeWrittenIsAFailure() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        // A regular file where the results directory should be.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cli-not-a-dir-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try await Self.run(Self.load(server.url, ["--rate", "50", "--duration", "500ms", "--out", file.path]))
        #expect(outcome.status == 1, "exit \(String(describing: outcome.status)); stderr: \(outcome.stderr)")
        #expect(outcome.stderr.contains("cannot write the result"), "stderr: \(outcome.stderr)")
    }

    @Test func progressIsOnePlainLinePerIntervalOffATerminalAndQuietTurnsItOff() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        let shown = try await Self.run(Self.load(server.url, ["--rate", "50", "--duration", "2500ms", "--progress-interval", "1s"]))
        #expect(shown.status == 0, "stderr: \(shown.stderr)")
        let lines = shown.stderr.split(separator: "\n").filter { $0.contains("req/s") && $0.contains("errors 0 (0.00%)") }
        #expect(lines.count >= 2, "stderr: \(shown.stderr)")
        #expect(lines.first?.contains("/50 req/s") == true, "the target rate is shown: \(lines)")
        #expect(!shown.stderr.contains("\u{1B}["), "no terminal control codes off a terminal")
        let quiet = try await Self.run(Self.load(server.url, ["--rate", "50", "--duration", "2500ms", "--progress-interval", "1s", "--quiet"]))
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("req/s"), "stderr: \(quiet.stderr)")
    }

    @Test func onATerminalTheProgressLineIsRewrittenEveryTwoSeconds() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        let directory = try BuiltExecutables.temporaryDirectory("cli-pty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = Self.load(server.url, ["--rate", "50", "--duration", "5s", "--out", directory.appendingPathComponent("r").path])
        let command = ([try BuiltExecutables.path("loaddriver")] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let transcript = directory.appendingPathComponent("transcript")
        // `script` gives the child a pseudo-terminal and copies what it writes there to its own standard output.
        let child = try ChildProcess.spawn("/usr/bin/script", ["-qec", command, "/dev/null"], standardOutput: transcript.path)
        let status = await child.waitForExit(within: .seconds(30))
        if status == nil { child.signal(SIGKILL) }
        let text = (try? String(contentsOf: transcript, encoding: .utf8)) ?? ""
        #expect(status == 0, "transcript: \(text)")
        let rewrites = text.components(separatedBy: "\r\u{1B}[2K").count - 1
        #expect(rewrites >= 2, "progress rewrites: \(rewrites); transcript: \(text)")
        #expect(text.contains("/50 req/s"), "transcript: \(text)")
        #expect(text.contains("RESULT:"), "the summary follows: \(text)")
    }

    @Test func abortOnStopsAHopelessRunAndSaysSoInTheResult() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        let clock = ContinuousClock()
        let start = clock.now
        var arguments = Self.load(server.url, ["--rate", "50", "--duration", "30s", "--abort-on", "failureRate>50%", "--abort-grace", "1s"])
        arguments[arguments.firstIndex(of: "GET:/work=1")!] = "GET:/fail=1"
        let outcome = try await Self.run(arguments)
        #expect(outcome.status == 99, "exit \(String(describing: outcome.status)); stderr: \(outcome.stderr)")
        #expect(clock.now - start < .seconds(10), "took \(clock.now - start)")
        #expect(outcome.stderr.contains("aborted: abort-on failureRate>50%"), "stderr: \(outcome.stderr)")
        let result = try #require(outcome.results.first)
        #expect(result.driver.stopReason == "aborted")
        #expect(!result.passed)
        let check = try #require(result.thresholds.first { $0.expression == "abort-on: failureRate>50%" })
        #expect(!check.ok && check.actual == 1)
    }

    @Test func mergeCombinesTheResultsOfTwoShards() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try? await server.shutdown() } }
        let directory = try BuiltExecutables.temporaryDirectory("cli-merge")
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for shard in ["shard1", "shard2"] {
            let out = directory.appendingPathComponent(shard)
            let outcome = try await Self.run(Self.load(server.url, ["--rate", "100", "--duration", "1s", "--name", "sharded", "--out", out.path]))
            #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
            let file = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasSuffix(".json") })
            files.append(out.appendingPathComponent(file).path)
        }
        let merged = directory.appendingPathComponent("merged.json")
        let outcome = try await Self.run(["merge"] + files + ["-o", merged.path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr); stdout: \(outcome.stdout)")
        let shards = try files.map { try LoadTestResult.decode(from: Data(contentsOf: URL(fileURLWithPath: $0))) }
        let result = try LoadTestResult.decode(from: Data(contentsOf: merged))
        #expect(result.summary.requests == shards[0].summary.requests + shards[1].summary.requests)
        #expect(result.scenario.users == 8)
        #expect(result.histograms?["latency"] != nil)
        #expect(outcome.stdout.contains("result: \(merged.path)"))
    }
}
