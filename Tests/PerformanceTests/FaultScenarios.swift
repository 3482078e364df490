import Foundation
import LoadDriver
import NIOPosix
import PerformanceSupport
import RedisPool
import Synchronization
import Testing

extension PerformanceSuite {
    /// What happens when things break, with numbers: each runs the Baseline load (500 users, 5,000 req/s) while a
    /// fault is injected, and attaches its JSON with the per-second series so the outage is visible.
    @Suite
    struct FaultScenarios {
        static func baselineLoad(_ name: String, seconds: Double = 30) -> PerformanceScenario {
            var spec = PerformanceScenario.pacedUsers(name, users: 500, ratePerUser: 10, seconds: seconds, thresholds: [])
            spec.comparesWithBaseline = false
            spec.checksRedisCounters = false
            return spec
        }

        /// Seconds since `start`, as a Double.
        static func seconds(since start: ContinuousClock.Instant) -> Double {
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }

        /// Fault times, relative to the moment the driver started (before connecting users).
        final class FaultLog: Sendable {
            let events = Mutex<[String: Double]>([:])
            func mark(_ name: String, _ at: Double) { events.withLock { $0[name] = at } }
            subscript(_ name: String) -> Double? { events.withLock { $0[name] } }
        }

        /// Converts a driver-relative time into the result's time-series second (0 = start of load, warm-up included).
        static func loadSecond(_ driverTime: Double, in result: LoadTestResult) -> Double {
            driverTime - result.driver.setupSeconds
        }

        @Test(.timeLimit(.minutes(3)))
        func redisRestart() async throws {
            let environment = try PerformanceEnvironment.current()
            // Kill 10 s in (scaled), restart 3 s later, and keep at least 8 s of load after recovery.
            let scale = environment.durationScale
            var restartSpec = Self.baselineLoad("RedisRestart", seconds: max(30 * scale, 10 * scale + 3 + 2 + 8))
            restartSpec.scalesDuration = false
            // Sessions must survive the crash, as in production: an append-only file. (Without persistence every
            // token is gone after the restart and every verify is a correct 401.) Redis write()s the AOF before it
            // sends any reply, so every acknowledged write survives a process crash (SIGKILL) with any fsync policy;
            // fsync only matters when the machine dies. `appendfsync no` keeps a slow shared CI disk from stalling
            // Redis for a second on an fsync (seen in CI with `always`: failures outside the outage window).
            restartSpec.redis = RedisServerProcess.Configuration(
                extraArguments: ["--appendonly", "yes", "--appendfsync", "no"], allowExternal: false)
            let spec = restartSpec
            let log = FaultLog()
            let acquireTimeout = spec.server.pool.acquireTimeout
            let run = try await ScenarioCheck.run(spec, environment: environment) { live in
                let start = ContinuousClock.now
                // 10 s into the run (after ramp-up, setup and warm-up), SIGKILL; restart on the same port 3 s later.
                let killAt = spec.scenario.rampUpSeconds + 1 + spec.scenario.warmUpSeconds + 10 * scale
                try await Task.sleep(until: start + .seconds(killAt))
                try await live.redis.kill()
                log.mark("kill", Self.seconds(since: start))
                try await Task.sleep(for: .seconds(3))
                try await live.redis.restart()
                log.mark("restart", Self.seconds(since: start))
            }
            let result = run.result
            let kill = try #require(log["kill"]), restart = try #require(log["restart"])
            let outageStart = Self.loadSecond(kill, in: result), outageEnd = Self.loadSecond(restart, in: result) + 2
            var inside = 0, outside = 0, afterRequests = 0, afterErrors = 0
            var outsideSeconds: [String] = []
            for point in result.timeSeries {
                let s = Double(point.second)
                if s + 1 >= outageStart - 1 && s <= outageEnd + 1 {
                    inside += point.errors
                } else {
                    outside += point.errors
                    if point.errors > 0 { outsideSeconds.append("second \(point.second): \(point.errors)") }
                }
                if s > outageEnd + 1 {
                    afterRequests += point.requests
                    afterErrors += point.errors
                }
            }
            let afterSuccess = afterRequests == 0 ? 0 : 1 - Double(afterErrors) / Double(afterRequests)
            let maxWaitMs = result.summary.serviceTimeMs.max
            let limitMs = Double(acquireTimeout.components.seconds) * 1000 + 100
            print(
                "RedisRestart: kill at load second \(String(format: "%.1f", outageStart)), restart at \(String(format: "%.1f", outageEnd - 2)); failures inside the window \(inside), outside \(outside); success after recovery \(String(format: "%.4f%%", afterSuccess * 100)) of \(afterRequests); max service time \(String(format: "%.1f", maxWaitMs)) ms"
            )
            if outside > 0 {
                let kinds = result.errors.counts.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
                let late = result.errors.samples.filter { $0.atSeconds > outageEnd + 1 }
                    .prefix(5).map { "\($0.kind.rawValue) at \($0.atSeconds) s on \($0.endpoint): \($0.detail)" }
                print("RedisRestart: failures outside the window by second: \(outsideSeconds.joined(separator: ", ")); kinds \(kinds); late samples \(late)")
            }
            #expect(outside == 0, "failures outside the outage window (+2 s): \(outside)")
            #expect(afterSuccess > 0.999, "success after recovery: \(afterSuccess)")
            #expect(afterRequests > 0, "no requests after recovery")
            #expect(maxWaitMs <= limitMs, "a request waited \(maxWaitMs) ms, more than acquireTimeout + 100 ms")
        }

        @Test(.timeLimit(.minutes(3)))
        func connectionKill() async throws {
            let environment = try PerformanceEnvironment.current()
            var spec = Self.baselineLoad("ConnectionKill")
            spec.scenario.thresholds = ["failureRate < 0.1%"]
            // Reads in flight on a killed connection are retried on another (pool `connectionLossRetries`); writes
            // (refresh's MULTI/EXEC, register's SET NX) are not, as they may already have run.
            let kills = Mutex(0)
            let total = spec.scenario.rampUpSeconds + 2 + (spec.scenario.durationSeconds ?? 30) * environment.durationScale
            let run = try await ScenarioCheck.run(spec, environment: environment) { live in
                let start = ContinuousClock.now
                let admin = try await RedisConnection.connect(
                    to: live.redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
                    logger: ScenarioCheck.logger)
                defer { admin.close() }
                var next = start + .seconds(5)
                while next < start + .seconds(total - 1) {
                    try await Task.sleep(until: next)
                    try await admin.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                    kills.withLock { $0 += 1 }
                    next += .seconds(5)
                }
            }
            let created = run.result.pool?.final["connectionsCreated"] ?? 0
            print("ConnectionKill: \(kills.withLock { $0 }) kills, failure rate \(String(format: "%.4f%%", run.result.summary.failureRate * 100)), pool connections created \(Int(created))")
            #expect(kills.withLock { $0 } >= 1)
        }

        @Test(.timeLimit(.minutes(3)))
        func poolExhaustion() async throws {
            let environment = try PerformanceEnvironment.current()
            var spec = PerformanceScenario.pacedUsers("PoolExhaustion", users: 1_000, ratePerUser: 10, seconds: 20, thresholds: [])
            spec.comparesWithBaseline = false
            spec.checksRedisCounters = false
            spec.server.pool.maximumConnections = 2
            spec.server.pool.minimumIdleConnections = 2
            spec.server.pool.acquireTimeout = .milliseconds(100)
            spec.server.pool.maximumWaiters = 100
            let run = try await ScenarioCheck.measure(spec, environment: environment)
            let result = run.result
            let status503 = result.statusCodes["503"] ?? 0
            let other = result.summary.failed - status503
            let peakWaiters = result.pool?.peak["waiters"] ?? 0
            let maxServiceMs = result.summary.serviceTimeMs.max
            print("PoolExhaustion: \(result.summary.requests) requests, 503: \(status503), other failures: \(other), peak waiters \(Int(peakWaiters)) (cap 100), max service time \(String(format: "%.1f", maxServiceMs)) ms")
            #expect(peakWaiters <= 100, "waiters must stay capped")
            #expect(maxServiceMs < 100 + 1_000, "an over-capacity request must be answered within acquireTimeout, never hang")
            #expect((result.errors.counts["timeout"] ?? 0) == 0, "no request may time out")
            #expect(run.gates.allSatisfy { $0.ok }, "\(run.gates.filter { !$0.ok })")
        }
    }
}
