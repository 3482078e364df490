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
        // Tests/UnitTests/Resilience/DriverFaultTests.swift → package root
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

    @Test func cliExitsWithCode2AndAClearMessageWhenTheTargetIsDown() async throws {
        // The CLI is built next to this test binary (same build directory and configuration).
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("loaddriver")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build it first: \(executable.path)")
        let port = try FreePort.loopback()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("driver-fault-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["run", "--url", "http://127.0.0.1:\(port)", "--users", "2", "--rate", "1", "--duration", "1",
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
        #expect(process.terminationStatus == 2, "exit code \(process.terminationStatus); stderr: \(errorText)")
        let namesTarget = errorText.contains("127.0.0.1:\(port)")
        let saysWhy = errorText.contains("not accepting connections")
        #expect(namesTarget, "stderr: \(errorText)")
        #expect(saysWhy, "stderr: \(errorText)")
        #expect(elapsed < .seconds(5), "took \(elapsed)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        #expect(written.isEmpty, "a result file was written for a run that never started: \(written)")
    }

    @Test func serverDyingMidRunStillEndsWithClassifiedErrors() async throws {
        try await AuthServerHarness.withServer { server, _ in
            var scenario = Scenario.authService(name: "server-dies", users: 4, ratePerUser: 5, durationSeconds: 4)
            scenario.warmUpSeconds = 0
            scenario.rampUpSeconds = 0.2
            scenario.requestTimeoutSeconds = 1
            var configuration = try LoadRunner.Configuration(url: "http://127.0.0.1:\(server.port)", logger: Self.quietLogger)
            configuration.connectTimeoutSeconds = 1
            configuration.setupTimeoutSeconds = 5
            let runner = LoadRunner(configuration)
            let plannedScenario = scenario
            let clock = ContinuousClock()
            let start = clock.now
            let killer = Task {
                try await Task.sleep(for: .milliseconds(1_700))
                try await server.shutdown()
                return clock.now - start
            }
            let result = try await Resilience.withDeadline(.seconds(30), "a run whose server died") {
                try await runner.run(plannedScenario)
            }
            let killedAt = try await killer.value
            let elapsed = clock.now - start
            print("server died at \(killedAt); run ended after \(elapsed); requests \(result.summary.requests); errors \(result.errors.counts)")
            #expect(elapsed < .seconds(15), "the run took \(elapsed) after its server died")
            #expect(result.summary.requests > 0, "no request was measured before the server died")
            #expect(result.errors.total > 0, "no error recorded although the server died at \(killedAt)")
            let known = Set(ErrorKind.allCases.map(\.rawValue))
            #expect(Set(result.errors.counts.keys).isSubset(of: known), "unclassified kinds: \(result.errors.counts)")
            let transport = ["connectRefused", "connectionReset"].reduce(0) { $0 + (result.errors.counts[$1] ?? 0) }
            #expect(transport > 0, "the server's death is not classified as connectRefused/connectionReset: \(result.errors.counts)")
            #expect((result.errors.counts["other"] ?? 0) == 0, "errors classified as 'other': \(result.errors.samples.filter { $0.kind == .other }.prefix(3))")
            #expect(result.errors.samples.allSatisfy { !$0.detail.isEmpty }, "error samples without detail")
        }
    }
}
