import AuthScenarios
import AuthServiceUnderTest
import Foundation
import LoadDriver
import Logging
import PerformanceSupport
import Testing

/// The load driver when its target misbehaves: down at start (fast, clear `.targetUnreachable`; the CLI exits 2),
/// and dying mid-run (the run still ends by itself with classified errors).
@Suite("Load driver under target faults", .serialized, .timeLimit(.minutes(3)))
struct DriverFaultTests {
    static let quietLogger: Logger = {
        var logger = Logger(label: "driver-fault-tests")
        logger.logLevel = .error
        return logger
    }()

    static var packageRoot: URL {
        // Tests/IntegrationTests/Resilience/DriverFaultTests.swift → package root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func targetDownAtStartThrowsTargetUnreachableQuickly() async throws {
        let port = try FreePort.loopback()
        let runner = LoadRunner(try .init(url: "http://127.0.0.1:\(port)", logger: Self.quietLogger))
        let scenario = Scenario.authService(name: "target-down", users: 2, ratePerUser: 1, durationSeconds: 1)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let result = try await Resilience.withDeadline(.seconds(10), "LoadRunner against a closed port") {
                try await runner.run(scenario)
            }
            Issue.record("a run against a closed port returned a result: \(result.summary)")
        } catch let error as LoadDriverError {
            #expect(error.code == .targetUnreachable, "\(error)")
            #expect(error.description.contains("\(port)"), "the error does not name the target: \(error)")
        }
        #expect(clock.now - start < .seconds(3), "took \(clock.now - start)")
    }

    @Test func cliExitsWithCode1AndAClearMessageWhenTheTargetIsDown() async throws {
        // The CLI is built next to this test binary (same build directory and configuration).
        let executable = URL(fileURLWithPath: try BuiltExecutables.path("loaddriver"))
        let port = try FreePort.loopback()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("driver-fault-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["run", "--url", "http://127.0.0.1:\(port)", "--users", "2", "--rate-per-user", "1", "--duration", "1",
                             "--out", output.path]
        let stderr = Pipe()
        let stdout = Pipe()
        process.standardError = stderr
        process.standardOutput = stdout
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        let deadline = start + .seconds(15)
        while process.isRunning && clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            Issue.record("loaddriver did not exit within 15 s against a closed port")
            process.waitUntilExit()
            return
        }
        let elapsed = clock.now - start
        let errorText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1, "exit code \(process.terminationStatus); stderr: \(errorText)")
        let namesTarget = errorText.contains("127.0.0.1:\(port)")
        let saysWhy = errorText.contains("not accepting connections")
        #expect(namesTarget, "stderr: \(errorText)")
        #expect(saysWhy, "stderr: \(errorText)")
        #expect(elapsed < .seconds(5), "took \(elapsed)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        #expect(written.isEmpty, "a result file was written for a run that never started: \(written)")
    }

    /// 4 paced users x 5 req/s for 4 s, no warm-up, 1 s request timeout: short enough to end soon after a fault.
    static var faultScenario: Scenario {
        var scenario = Scenario.authService(name: "server-dies", users: 4, ratePerUser: 5, durationSeconds: 4)
        scenario.warmUpSeconds = 0
        scenario.rampUpSeconds = 0.2
        scenario.requestTimeoutSeconds = 1
        return scenario
    }

    static func faultConfiguration(port: Int) throws -> LoadRunner.Configuration {
        var configuration = try LoadRunner.Configuration(url: "http://127.0.0.1:\(port)", logger: Self.quietLogger)
        configuration.connectTimeoutSeconds = 1
        configuration.setupTimeoutSeconds = 5
        return configuration
    }

    /// The run measured requests before the fault, recorded errors after it, and classified every error: the
    /// server's death as `connectRefused` / `connectionReset` (the driver's `ErrorKind` names), none as `other`.
    static func expectClassifiedServerDeath(
        _ result: LoadTestResult, _ context: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.summary.succeeded > 0, "\(context): no request succeeded before the server died", sourceLocation: sourceLocation)
        #expect(result.errors.total > 0, "\(context): no error recorded although the server died", sourceLocation: sourceLocation)
        let known = Set(ErrorKind.allCases.map(\.rawValue))
        #expect(Set(result.errors.counts.keys).isSubset(of: known), "\(context): unclassified kinds: \(result.errors.counts)", sourceLocation: sourceLocation)
        let transport = ["connectRefused", "connectionReset"].reduce(0) { $0 + (result.errors.counts[$1] ?? 0) }
        #expect(transport > 0, "\(context): the server's death is not classified as connectRefused/connectionReset: \(result.errors.counts)", sourceLocation: sourceLocation)
        #expect((result.errors.counts["other"] ?? 0) == 0, "\(context): errors classified as 'other': \(result.errors.samples.filter { $0.kind == .other }.prefix(3))", sourceLocation: sourceLocation)
        #expect(result.errors.samples.allSatisfy { !$0.detail.isEmpty }, "\(context): error samples without detail", sourceLocation: sourceLocation)
    }

    @Test func serverDyingMidRunStillEndsWithClassifiedErrors() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let runner = LoadRunner(try Self.faultConfiguration(port: server.port))
            let clock = ContinuousClock()
            let start = clock.now
            let killer = Task {
                try await Task.sleep(for: .milliseconds(1_700))
                try await server.shutdown()
                return clock.now - start
            }
            let result = try await Resilience.withDeadline(.seconds(30), "a run whose server died") {
                try await runner.run(Self.faultScenario)
            }
            let killedAt = try await killer.value
            let elapsed = clock.now - start
            print("server died at \(killedAt); run ended after \(elapsed); requests \(result.summary.requests); errors \(result.errors.counts)")
            #expect(elapsed < .seconds(15), "the run took \(elapsed) after its server died")
            Self.expectClassifiedServerDeath(result, "graceful shutdown at \(killedAt)")
        }
    }

    /// The real `auth-server` process is killed with SIGKILL (no drain, no FIN for in-flight requests: the kernel
    /// resets its sockets) about 1 s into the load of an in-process LoadRunner: the run still ends by itself, on time,
    /// with a result whose errors are classified.
    @Test func serverProcessSIGKILLedMidRunStillEndsWithClassifiedErrors() async throws {
        let directory = try BuiltExecutables.temporaryDirectory("driver-sigkill")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await RedisServerProcess.withServer { redis in
            let child = try AuthServerChild.spawn(redisURL: redis.endpoint.url, directory: directory)
            do {
                try await child.waitUntilReady()
                let runner = LoadRunner(try Self.faultConfiguration(port: child.port))
                let clock = ContinuousClock()
                let start = clock.now
                let killer = Task {
                    try await Task.sleep(for: .milliseconds(1_500))
                    let status = await child.kill()
                    return (clock.now - start, status)
                }
                let result = try await Resilience.withDeadline(.seconds(30), "a run whose server was SIGKILLed") {
                    try await runner.run(Self.faultScenario)
                }
                let (killedAt, status) = try await killer.value
                let elapsed = clock.now - start
                print("auth-server (pid \(child.process.pid)) SIGKILLed at \(killedAt); run ended after \(elapsed); "
                    + "requests \(result.summary.requests), succeeded \(result.summary.succeeded); errors \(result.errors.counts)")
                #expect(status == 128 + SIGKILL, "auth-server exit status \(status.map(String.init) ?? "none") after SIGKILL")
                // 0.2 s ramp-up + setup + 4 s of load + the 1 s request timeout, with margin for a loaded machine.
                #expect(elapsed < .seconds(12), "the run took \(elapsed) after its server was killed at \(killedAt)")
                #expect(result.summary.measuredSeconds > 3, "the run stopped early: measured \(result.summary.measuredSeconds) s")
                Self.expectClassifiedServerDeath(result, "SIGKILL at \(killedAt)")
                // After the kill nothing listens on the port: the later errors are refused connects.
                #expect((result.errors.counts["connectRefused"] ?? 0) > 0, "no connectRefused after the kill: \(result.errors.counts)")
            } catch {
                await child.kill()
                throw error
            }
            await child.kill()
        }
    }

    /// The `loaddriver` CLI against the `auth-server` executable, which is SIGKILLed mid-run: the CLI exits by itself
    /// with exit code 99 (`ExitCodes.thresholdsFailed`: the run completed but `successRate > 99%` failed; without a
    /// threshold it would exit 0 — exit code 2 is only for usage errors, 1 for a run that could not start), prints the error
    /// classification, and writes its JSON result with the classified errors.
    @Test func cliWhoseServerIsSIGKILLedMidRunExitsWithResultsAndClassifiedErrors() async throws {
        let loaddriver = try BuiltExecutables.path("loaddriver")
        let directory = try BuiltExecutables.temporaryDirectory("cli-sigkill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("results")
        try await RedisServerProcess.withServer { redis in
            let child = try AuthServerChild.spawn(redisURL: redis.endpoint.url, directory: directory)
            do {
                try await child.waitUntilReady()
                let stdout = directory.appendingPathComponent("loaddriver.stdout")
                let stderr = directory.appendingPathComponent("loaddriver.stderr")
                let cli = try ChildProcess.spawn(
                    loaddriver,
                    ["run", "--url", "http://127.0.0.1:\(child.port)", "--users", "4", "--rate-per-user", "5", "--duration", "5",
                     "--ramp-up", "0.2", "--warm-up", "0", "--timeout", "1", "--calibration-seconds", "0",
                     "--name", "cli-server-sigkilled", "--threshold", "successRate > 99%", "--out", output.path],
                    standardOutput: stdout.path, standardError: stderr.path)
                defer { if cli.exitStatus() == nil { cli.signal(SIGKILL) } }  // only on an early throw: reaped otherwise
                let clock = ContinuousClock()
                let start = clock.now
                try await Task.sleep(for: .milliseconds(2_000))
                let killStatus = await child.kill()
                #expect(killStatus == 128 + SIGKILL, "auth-server exit status \(killStatus.map(String.init) ?? "none")")
                guard let exitStatus = await cli.waitForExit(within: .seconds(30)) else {
                    cli.signal(SIGKILL)
                    _ = await cli.waitForExit(within: .seconds(5))
                    Issue.record("loaddriver did not exit within 30 s of its server being killed")
                    return
                }
                let elapsed = clock.now - start
                let printed = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
                let errorText = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
                print("loaddriver exited \(exitStatus) after \(elapsed); stdout:\n\(printed)")
                #expect(exitStatus == 99, "exit status \(exitStatus); stderr: \(errorText); stdout: \(printed)")
                #expect(elapsed < .seconds(15), "loaddriver took \(elapsed)")
                #expect(printed.contains("RESULT: FAILED"), "stdout: \(printed)")
                let errorsLine = printed.split(separator: "\n").first { $0.hasPrefix("errors: ") }.map(String.init) ?? ""
                #expect(errorsLine.contains("connectRefused=") || errorsLine.contains("connectionReset="),
                        "no error classification printed: \(errorsLine.isEmpty ? printed : errorsLine)")
                #expect(!errorsLine.contains("other="), "errors classified as other: \(errorsLine)")
                let files = (try? FileManager.default.contentsOfDirectory(atPath: output.path))?.filter { $0.hasSuffix(".json") } ?? []
                #expect(files.count == 1, "result files: \(files)")
                if let file = files.first {
                    #expect(printed.contains("result: " + output.appendingPathComponent(file).path), "the result path is not printed")
                    let result = try LoadTestResult.decode(from: Data(contentsOf: output.appendingPathComponent(file)))
                    #expect(result.scenario.name == "cli-server-sigkilled")
                    #expect(!result.passed)
                    Self.expectClassifiedServerDeath(result, "CLI, SIGKILL at 2 s")
                }
            } catch {
                await child.kill()
                throw error
            }
            await child.kill()
        }
    }
}
