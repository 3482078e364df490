import AuthScenarios
import Foundation
import Histogram
import LoadDriver
import LoadReports

/// Synthetic but realistic results: a paced-users run with warm-up, a 2-second server stall (latency spike, pool
/// waiters, timeouts and 503s), pool samples, per-endpoint statistics and a real HdrHistogram distribution.
enum ReportFixtures {
    /// Deterministic pseudo-random numbers (so fixtures and assertions are stable).
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// - Parameters:
    ///   - latencyScale: multiplies every latency (a "regressed" copy uses e.g. 2).
    ///   - stall: include the stall with its errors.
    static func result(
        name: String = "Baseline", users: Int = 500, ratePerUser: Double = 10, seconds: Int = 30, warmUp: Int = 2,
        latencyScale: Double = 1, stall: Bool = true, pool: Bool = true, seed: UInt64 = 42,
        thresholds: [String] = ["successRate > 99%", "p(95) < 25ms", "pool.utilization < 50%", "achievedRate >= 95%"]
    ) -> LoadTestResult {
        var random = Random(state: seed)
        let target = ratePerUser * Double(users)
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var points: [TimeSeriesPoint] = []
        var timeouts = 0, serverErrors = 0
        var samples: [ErrorSample] = []
        for second in 0..<(warmUp + seconds) {
            let stalled = stall && (second == warmUp + 14 || second == warmUp + 15)
            let base = 2.0 * latencyScale
            let p50 = (stalled ? 180 : base + random.next() * 0.6) * (second < warmUp ? 1.4 : 1)
            let p95 = p50 * (stalled ? 2.2 : 2.6 + random.next())
            let p99 = p95 * (stalled ? 1.6 : 1.8 + random.next() * 0.5)
            var errors = 0
            var errorsByKind: [String: Int]? = nil
            if stalled {
                let t = 20 + Int(random.next() * 10), e5 = 60 + Int(random.next() * 10)
                errors = t + e5
                errorsByKind = ["timeout": t, "http5xx": e5]
                if second >= warmUp {
                    timeouts += t
                    serverErrors += e5
                }
                for i in 0..<3 {
                    let at = Double(second) + 0.1 + Double(i) * 0.2
                    if samples.filter({ $0.kind == .timeout }).count < 10 {
                        samples.append(ErrorSample(kind: .timeout, atSeconds: at, endpoint: "verify", detail: "no response within 10 s"))
                    }
                    if samples.filter({ $0.kind == .http5xx }).count < 10 {
                        samples.append(ErrorSample(kind: .http5xx, atSeconds: at + 0.05, endpoint: i == 0 ? "login" : "verify",
                                                   detail: "503 Service Unavailable: {\"error\":\"redis pool exhausted\",\"retryAfter\":1} <script>x</script> & more"))
                    }
                }
            }
            let achieved = stalled ? target * 0.55 : target * (0.985 + random.next() * 0.02)
            let requests = Int(achieved)
            // Record a spread of latencies into the histogram for the measured window.
            if second >= warmUp {
                for _ in 0..<200 {
                    let u = random.next()
                    let ms = u < 0.5 ? p50 * (0.5 + u) : u < 0.95 ? p50 + (p95 - p50) * (u - 0.5) / 0.45 : p95 + (p99 - p95) * (u - 0.95) / 0.04
                    _ = histogram.record(UInt64(max(1, ms * 1000)))
                }
            }
            let inUse = stalled ? 160.0 : 18 + random.next() * 14
            let poolSample: [String: Double]? = pool ? [
                "inUse": inUse, "waiters": stalled ? 240 + random.next() * 60 : 0, "idle": 160 - inUse,
                "maximumConnections": 160, "totalConnections": 160, "utilization": inUse / 160,
                "acquireWaitMs.p99": stalled ? 800 : 0.2,
            ] : nil
            points.append(TimeSeriesPoint(
                second: second, warmUp: second < warmUp, requests: requests, errors: errors, p50Ms: p50, p95Ms: p95, p99Ms: p99,
                achievedRate: achieved, targetRate: target, pool: poolSample,
                machine: MachineCPUReport(cpus: 2, busyPercent: stalled ? 99 : 70 + random.next() * 10, stealPercent: random.next() * 3),
                cpuPercent: stalled ? 150 : 120 + random.next() * 10, errorsByKind: errorsByKind))
        }
        _ = histogram.record(UInt64(2_400_000 * latencyScale))  // one very slow request: the max
        let measured = points.filter { !$0.warmUp }
        let requests = measured.reduce(0) { $0 + $1.requests }
        let failed = timeouts + serverErrors
        let stats = LatencyStats(microseconds: histogram)
        let service = LatencyStats(count: stats.count, min: stats.min, p50: stats.p50 * 0.8, p75: stats.p75 * 0.8, p90: stats.p90 * 0.8,
                                   p95: stats.p95 * 0.7, p99: stats.p99 * 0.5, p999: stats.p999 * 0.5, max: stats.max * 0.5,
                                   mean: stats.mean * 0.8, stddev: stats.stddev)
        let achievedRate = Double(requests) / Double(seconds)
        let summary = LoadTestResult.Summary(
            requests: requests, succeeded: requests - failed, failed: failed,
            successRate: Double(requests - failed) / Double(requests), failureRate: Double(failed) / Double(requests),
            targetRate: target, achievedRate: achievedRate, measuredSeconds: Double(seconds), late: stall ? 812 : 0,
            dropped: stall ? 37 : 0, latencyMs: stats, serviceTimeMs: service)
        func endpoint(_ share: Double, failedShare: Double) -> EndpointStats {
            let n = Int(Double(requests) * share), f = Int(Double(failed) * failedShare)
            return EndpointStats(requests: n, succeeded: n - f, failed: f, successRate: Double(n - f) / Double(max(n, 1)),
                                 failureRate: Double(f) / Double(max(n, 1)), achievedRate: achievedRate * share,
                                 latencyMs: stats, serviceTimeMs: service)
        }
        var errorCounts: [String: Int] = [:]
        if timeouts > 0 { errorCounts["timeout"] = timeouts }
        if serverErrors > 0 { errorCounts["http5xx"] = serverErrors }
        var status = ["200": requests - failed]
        if serverErrors > 0 { status["503"] = serverErrors }
        let poolReport: PoolReport? = pool ? PoolReport(
            initial: ["inUse": 0, "waiters": 0, "maximumConnections": 160, "utilization": 0, "totalConnections": 4],
            final: ["inUse": 0, "waiters": 0, "maximumConnections": 160, "utilization": 0, "totalConnections": 160],
            peak: ["inUse": 160, "waiters": stall ? 300 : 0, "maximumConnections": 160, "utilization": stall ? 1 : 0.2,
                   "totalConnections": 160, "acquireWaitMs.p99": stall ? 800 : 0.2],
            samples: warmUp + seconds + 1, failedPolls: 0) : nil
        var scenario = Scenario.authService(name: name, users: users, ratePerUser: ratePerUser, durationSeconds: Double(seconds), thresholds: thresholds)
        scenario.warmUpSeconds = Double(warmUp)
        var result = LoadTestResult(
            scenario: scenario,
            environment: RunEnvironment(buildConfiguration: "release", cpuCount: 2, swiftVersion: "6.3+", gitCommit: "c363879abcdef",
                                        os: "Linux", hostname: "ci", target: "127.0.0.1:8002",
                                        extra: ["hashIterations": "1000", "poolMaximumConnections": "160"]),
            runId: "1129044512ab\(seed)", startedAt: "2026-11-29T04:\(String(format: "%02d", 10 + Int(seed % 40))):00Z",
            summary: summary, latencyDistribution: histogram.percentileDistribution(),
            endpoints: ["verify": endpoint(0.9, failedShare: 0.9), "login": endpoint(0.05, failedShare: 0.1), "refresh": endpoint(0.05, failedShare: 0)],
            statusCodes: status,
            errors: ErrorReport(total: failed, counts: errorCounts, samples: samples.sorted { $0.atSeconds < $1.atSeconds },
                                setupFailures: 0, warmUpFailures: 0),
            timeSeries: points, pool: poolReport,
            driver: DriverReport(schedulingLagMs: .init(count: requests, p50: 0.05, p99: 0.8, max: 4), cpuUserSeconds: 21,
                                 cpuSystemSeconds: 9, cpuPercent: 93, driverLimited: false, driverLimitedLagMs: 10,
                                 eventLoopThreads: 1, connectionsOpened: users, reconnects: stall ? 12 : 0, setupSeconds: 3.2,
                                 stopReason: "duration", machine: MachineCPUReport(cpus: 2, busyPercent: 78, stealPercent: 1.5)),
            thresholds: [], passed: true)
        try? result.applyThresholds(thresholds)
        return result
    }

    /// A small closed-loop result without pool monitoring or errors (the seed's quick validation).
    static func quick() -> LoadTestResult {
        var r = result(name: "QuickValidation", users: 100, seconds: 3, warmUp: 0, stall: false, pool: false, seed: 7,
                       thresholds: ["successRate >= 100%"])
        r.scenario.load = .closedLoop(thinkTimeSeconds: 0)
        r.scenario.maxRequests = 1000
        r.scenario.durationSeconds = nil
        r.summary.targetRate = nil
        for i in r.timeSeries.indices { r.timeSeries[i].targetRate = nil }
        return r
    }

    static func write(_ result: LoadTestResult, to directory: URL, name: String) throws -> URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = directory.appendingPathComponent(name)
        try encoder.encode(result).write(to: url)
        return url
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
