import Foundation
import LoadDriver
import Logging
import PerformanceSupport
import Synchronization
import Testing

/// Faults are timed and marked on the load phase's clock; these check that it is the clock of the result's
/// per-second series.
@Suite("LoadTimeline")
struct LoadTimelineTests {
    @Test func marksAreInLoadSecondsFromTheAnnouncedStart() async throws {
        let timeline = LoadTimeline()
        #expect(timeline.now() == nil)
        #expect(timeline.mark("before") == 0, "unknown until the driver announces second 0")
        timeline.loadStarting(in: .milliseconds(200))
        let before = try #require(timeline.now())
        #expect(before < -0.15 && before > -0.25, "\(before)")
        try await timeline.sleep(untilSecond: 0.1)
        let at = timeline.mark("fault", detail: "injected")
        #expect(at >= 0.1 && at < 1, "\(at)")
        #expect(timeline.events.map(\.name) == ["before", "fault"])
        // A mark made before second 0 was known gets its true, negative load second.
        #expect(timeline.events.first.map { $0.atSeconds < -0.15 && $0.atSeconds > -0.5 } == true, "\(timeline.events)")
        #expect(timeline.events.last?.detail == "injected")
    }

    /// The driver announces second 0 once; an event marked at the end of the run lands where the series ends.
    @Test(.timeLimit(.minutes(1)))
    func theDriverAnnouncesSecondZeroOfItsSeries() async throws {
        let server = try await TestHTTPServer(behavior: .init(delay: .milliseconds(1)))
        defer { Task { try await server.shutdown() } }
        var logger = Logger(label: "LoadTimelineTest")
        logger.logLevel = .warning
        var configuration = try LoadRunner.Configuration(url: server.url, poolMonitorPath: nil, logger: logger)
        configuration.calibrationSeconds = 0
        let timeline = LoadTimeline()
        let calls = Mutex(0)
        configuration.onLoadStart = { delay in
            calls.withLock { $0 += 1 }
            timeline.loadStarting(in: delay)
        }
        let scenario = Scenario(
            name: "timeline", users: 10, load: .pacedUsers(ratePerUser: 20), durationSeconds: 2, rampUpSeconds: 0.3,
            warmUpSeconds: 0.5, mix: [.init(weight: 1, request: RequestTemplate(name: "work", path: "/work"))])
        let result = try await LoadRunner(configuration).run(scenario)
        let end = timeline.mark("run returned")
        #expect(calls.withLock { $0 } == 1)
        // The load phase is warm-up + duration = 2.5 s on the series' clock; the run returns shortly after.
        #expect(end >= 2.5 && end < 3.5, "run returned at load second \(end)")
        #expect((3...4).contains(result.timeSeries.count), "\(result.timeSeries.map(\.second))")
        #expect(result.timeSeries.first?.warmUp == true)
    }
}

/// Load scenarios refuse a debug build before anything starts, saying how to run them.
@Suite("Debug builds")
struct DebugBuildTests {
    @Test func aDebugBuildFailsAtOnceNamingTheWayToRunOptimized() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: PerformanceSetupError.self) { try PerformanceHarness.requireOptimizedBuild("debug") }
        #expect(clock.now - start < .seconds(1))
        let message = "\(error.map { String(describing: $0) } ?? "")"
        #expect(message.contains("scripts/perf") && message.contains("-c release"), "\(message)")
        try PerformanceHarness.requireOptimizedBuild("release")
    }
}
