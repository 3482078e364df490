import LoadDriver

/// A hand-built result for threshold, comparison and JSON tests.
enum SampleResults {
    static func make() -> LoadTestResult {
        let latency = LatencyStats(count: 990, min: 1, p50: 12, p75: 15, p90: 20, p95: 25, p99: 40, p999: 80, max: 120, mean: 14, stddev: 6)
        let service = LatencyStats(count: 990, min: 1, p50: 10, p75: 12, p90: 15, p95: 18, p99: 30, p999: 60, max: 100, mean: 11, stddev: 5)
        let summary = LoadTestResult.Summary(
            requests: 1000, succeeded: 995, failed: 5, successRate: 0.995, failureRate: 0.005, targetRate: 1000,
            achievedRate: 990, measuredSeconds: 1.0101, late: 3, dropped: 1, latencyMs: latency, serviceTimeMs: service)
        let endpoint = EndpointStats(
            requests: 900, succeeded: 897, failed: 3, successRate: 0.99667, failureRate: 0.00333, achievedRate: 891,
            latencyMs: latency, serviceTimeMs: service)
        return LoadTestResult(
            scenario: .baseline,
            environment: RunEnvironment(buildConfiguration: "release", cpuCount: 2, swiftVersion: "6.3", gitCommit: "abc",
                                        os: "Linux", hostname: "h", target: "127.0.0.1:8002", extra: ["hashIterations": "1000"]),
            runId: "run1", startedAt: "2026-01-01T00:00:00Z", summary: summary,
            latencyDistribution: [
                PercentilePoint(percentile: 0, valueMs: 1, totalCount: 1),
                PercentilePoint(percentile: 50, valueMs: 12, totalCount: 495),
                PercentilePoint(percentile: 100, valueMs: 120, totalCount: 990),
            ],
            endpoints: ["verify": endpoint], statusCodes: ["200": 995, "500": 5],
            errors: ErrorReport(
                total: 5, counts: ["http5xx": 5],
                samples: [ErrorSample(kind: .http5xx, atSeconds: 1.5, endpoint: "verify", detail: "HTTP 500")],
                setupFailures: 0, warmUpFailures: 0),
            timeSeries: [
                TimeSeriesPoint(second: 0, warmUp: false, requests: 990, errors: 5, p50Ms: 12, p95Ms: 25, p99Ms: 40,
                                achievedRate: 990, targetRate: 1000, pool: ["utilization": 0.4, "waiters": 2],
                                errorsByKind: ["http5xx": 5]),
            ],
            pool: PoolReport(initial: ["utilization": 0, "waiters": 0], final: ["utilization": 0.1, "waiters": 0],
                             peak: ["utilization": 0.4, "waiters": 2], samples: 3, failedPolls: 0),
            driver: DriverReport(
                schedulingLagMs: .init(count: 990, p50: 0.05, p99: 0.4, max: 2), cpuUserSeconds: 0.5, cpuSystemSeconds: 0.2,
                cpuPercent: 70, driverLimited: false, driverLimitedLagMs: 10, eventLoopThreads: 1, connectionsOpened: 500,
                reconnects: 0, setupSeconds: 1.2, stopReason: "duration"),
            thresholds: [ThresholdResult(expression: "p(95) < 500ms", actual: 25, limit: 500, ok: true)],
            passed: true)
    }
}
