import Foundation
import Histogram

extension LoadTestResult {
    /// Merges the loops' reports into a result and evaluates the thresholds.
    static func assemble(
        scenario: Scenario, environment: RunEnvironment, runId: String, startedAt: String, reports: [LoopReport],
        endpointNames: [String], timeline: Timeline, loadEnd: Int64, initialPool: PoolMonitor.Sample?,
        poolSamples: [PoolMonitor.Sample], failedPolls: Int, cpuSamples: [CPUMonitor.Sample] = [],
        cpu: (user: Double, system: Double),
        driverLimitedLagMs: Double, eventLoopThreads: Int, setupSeconds: Double, thresholds: [Threshold], maxSamplesPerKind: Int
    ) -> LoadTestResult {
        var latency = LoopRecorder.makeHistogram()
        var service = LoopRecorder.makeHistogram()
        var lag = LoopRecorder.makeHistogram()
        var scheduleLag = LoopRecorder.makeHistogram()
        var endpointLatency = endpointNames.map { _ in LoopRecorder.makeHistogram() }
        var endpointService = endpointNames.map { _ in LoopRecorder.makeHistogram() }
        var endpointCounters = Array(repeating: LoopRecorder.EndpointCounters(), count: endpointNames.count)
        var statusCodes: [String: Int] = [:]
        var errorCounts: [String: Int] = [:]
        var samples: [ErrorSample] = []
        var succeeded = 0, failed = 0, late = 0, dropped = 0, skipped = 0, opened = 0, reconnects = 0
        var setupFailures = 0, warmUpFailures = 0
        var lastCompletion: Int64 = 0
        var stopReasons = Set<String>()
        var sent: [String: Int] = [:]
        for r in reports {
            latency.add(r.latency)
            service.add(r.service)
            lag.add(r.lag)
            scheduleLag.add(r.scheduleLag)
            for i in endpointNames.indices {
                endpointLatency[i].add(r.endpointLatency[i])
                endpointService[i].add(r.endpointService[i])
                endpointCounters[i].requests += r.endpointCounters[i].requests
                endpointCounters[i].succeeded += r.endpointCounters[i].succeeded
                endpointCounters[i].failed += r.endpointCounters[i].failed
            }
            for (code, n) in r.statusCounts { statusCodes[String(code), default: 0] += n }
            for (kind, n) in r.errorCounts { errorCounts[kind.rawValue, default: 0] += n }
            samples += r.samples
            succeeded += r.succeeded
            failed += r.failed
            late += r.late
            dropped += r.dropped
            skipped += r.skipped
            opened += r.connectionsOpened
            reconnects += r.reconnects
            setupFailures += r.setupFailures
            warmUpFailures += r.warmUpFailures
            lastCompletion = max(lastCompletion, r.lastMeasuredCompletion)
            stopReasons.insert(r.stopReason)
            for (i, n) in r.sentMix.enumerated() where n > 0 { sent[endpointNames[i], default: 0] += n }
            for (i, n) in r.sentSetup.enumerated() where n > 0 { sent[scenario.setup[i].name, default: 0] += n }
        }
        let seconds = LoopRecorder.Second.merged(reports.map(\.seconds))
        // Keep the first N samples per kind, by time.
        samples.sort { $0.atSeconds < $1.atSeconds }
        var perKind: [ErrorKind: Int] = [:]
        samples = samples.filter { s in
            perKind[s.kind, default: 0] += 1
            return perKind[s.kind]! <= maxSamplesPerKind
        }

        let requests = succeeded + failed
        let stopReason = stopReasons.contains("wallClockCap") ? "wallClockCap"
            : (stopReasons.contains("maxRequests") ? "maxRequests" : (stopReasons.subtracting(["duration"]).sorted().first ?? "duration"))
        // Measured window: the full duration when it ran out; up to the last completion when stopped earlier.
        let windowEnd: Int64
        if stopReason == "duration", timeline.measureEnd != .max {
            windowEnd = timeline.measureEnd
        } else {
            windowEnd = max(min(loadEnd, timeline.measureEnd), lastCompletion)
        }
        let measuredSeconds = max(Double(windowEnd - timeline.measureStart) / 1e9, 1e-3)
        let schedule = ArrivalSchedule(model: scenario.load, users: scenario.users)
        let warm = scenario.warmUpSeconds
        let targetRate: Double? = scenario.load.isOpen ? schedule.averageRate(from: warm, to: warm + measuredSeconds) : nil

        func rate(_ n: Int, _ of: Int) -> Double { of == 0 ? 1 : Double(n) / Double(of) }
        let summary = Summary(
            requests: requests, succeeded: succeeded, failed: failed,
            successRate: rate(succeeded, requests), failureRate: requests == 0 ? 0 : Double(failed) / Double(requests),
            targetRate: targetRate, achievedRate: Double(requests) / measuredSeconds, measuredSeconds: measuredSeconds,
            late: late, dropped: dropped, latencyMs: LatencyStats(microseconds: latency),
            serviceTimeMs: LatencyStats(microseconds: service),
            skipped: scenario.load.skipsMissedSlots ? skipped : nil,
            scheduleLagMs: scenario.load.isOpen ? LatencyStats(microseconds: scheduleLag) : nil)

        var endpoints: [String: EndpointStats] = [:]
        var histograms: [String: Histogram<UInt64>] = ["": latency, "serviceTime": service]
        for (i, name) in endpointNames.enumerated() {
            let c = endpointCounters[i]
            endpoints[name] = EndpointStats(
                requests: c.requests, succeeded: c.succeeded, failed: c.failed, successRate: rate(c.succeeded, c.requests),
                failureRate: c.requests == 0 ? 0 : Double(c.failed) / Double(c.requests),
                achievedRate: Double(c.requests) / measuredSeconds,
                latencyMs: LatencyStats(microseconds: endpointLatency[i]),
                serviceTimeMs: LatencyStats(microseconds: endpointService[i]))
            histograms[name] = endpointLatency[i]
            histograms[name + ".serviceTime"] = endpointService[i]
        }

        // Pool: the sample of each second, initial/final/peak. Like every statistic, the peak excludes warm-up (the
        // pool grows from its idle minimum there); with no sample inside the measured window, it covers them all.
        var secondPool: [Int: [String: Double]] = [:]
        var peak: [String: Double] = [:], peakAll: [String: Double] = [:]
        for s in poolSamples {
            let second = Int((s.at - timeline.loadStart) / 1_000_000_000)
            if second >= 0 { secondPool[second] = s.fields }
            for (k, v) in s.fields { peakAll[k] = max(peakAll[k] ?? v, v) }
            if s.at >= timeline.measureStart {
                for (k, v) in s.fields { peak[k] = max(peak[k] ?? v, v) }
            }
        }
        if peak.isEmpty { peak = peakAll }
        var pool: PoolReport? = nil
        if let initial = initialPool ?? poolSamples.first {
            pool = PoolReport(
                initial: initial.fields, final: poolSamples.last?.fields ?? initial.fields,
                peak: peak.isEmpty ? initial.fields : peak, samples: poolSamples.count + (initialPool == nil ? 0 : 1),
                failedPolls: failedPolls)
        }

        let secondCPU = CPUMonitor.perSecond(cpuSamples, cpus: ProcessInfo.processInfo.activeProcessorCount)
        let timeSeries = seconds.enumerated().map { (i, s) -> TimeSeriesPoint in
            let h = s.histogram
            func p(_ q: Double) -> Double { h.map { Double($0.valueAtPercentile(q)) / 1000 } ?? 0 }
            return TimeSeriesPoint(
                second: i, warmUp: Double(i) < scenario.warmUpSeconds, requests: s.requests, errors: s.errors, p50Ms: p(50), p95Ms: p(95),
                p99Ms: p(99), achievedRate: Double(s.requests),
                targetRate: scenario.load.isOpen ? schedule.averageRate(from: Double(i), to: Double(i + 1)) : nil,
                pool: secondPool[i], machine: secondCPU[i]?.machine, cpuPercent: secondCPU[i]?.cpuPercent,
                errorsByKind: s.errorsByKind.isEmpty ? nil : Dictionary(uniqueKeysWithValues: s.errorsByKind.map { ($0.key.rawValue, $0.value) }))
        }

        let loadSeconds = max(Double(loadEnd - timeline.loadStart) / 1e9, 1e-3)
        let lagStats = DriverReport.LagStats(
            count: Int(lag.totalCount),
            p50: lag.totalCount == 0 ? 0 : Double(lag.valueAtPercentile(50)) / 1000,
            p99: lag.totalCount == 0 ? 0 : Double(lag.valueAtPercentile(99)) / 1000,
            max: lag.totalCount == 0 ? 0 : Double(lag.max) / 1000)
        let driver = DriverReport(
            schedulingLagMs: lagStats, cpuUserSeconds: cpu.user, cpuSystemSeconds: cpu.system,
            cpuPercent: (cpu.user + cpu.system) / loadSeconds * 100,
            driverLimited: lagStats.p99 > driverLimitedLagMs,
            driverLimitedReason: lagStats.p99 > driverLimitedLagMs
                ? DriverReport.lagReason(p99: lagStats.p99, bound: driverLimitedLagMs) : nil,
            driverLimitedLagMs: driverLimitedLagMs,
            eventLoopThreads: eventLoopThreads, connectionsOpened: opened, reconnects: reconnects,
            setupSeconds: setupSeconds, stopReason: stopReason)

        var result = LoadTestResult(
            scenario: scenario, environment: environment, runId: runId, startedAt: startedAt, summary: summary,
            latencyDistribution: latency.percentileDistribution(), endpoints: endpoints, statusCodes: statusCodes,
            errors: ErrorReport(
                total: failed, counts: errorCounts, samples: samples, setupFailures: setupFailures,
                warmUpFailures: warmUpFailures),
            timeSeries: timeSeries, pool: pool, driver: driver, thresholds: [], passed: true, requestsSent: sent)
        result.thresholds = thresholds.map { $0.evaluate(in: result, histograms: histograms) }
        result.settleVerdict()
        result.histograms = LoadTestResult.encodedHistograms(histograms)
        return result
    }

    /// Threshold keys ("" overall latency, "serviceTime", "<endpoint>", "<endpoint>.serviceTime") to the stored
    /// ``histograms`` keys, encoded.
    static func encodedHistograms(_ histograms: [String: Histogram<UInt64>]) -> [String: String] {
        var encoded: [String: String] = [:]
        for (key, histogram) in histograms {
            encoded[storedHistogramKey(thresholdKey: key)] = HdrHistogramCodec.encode(histogram)
        }
        return encoded
    }

    static func storedHistogramKey(thresholdKey key: String) -> String {
        if key.isEmpty { return "latency" }
        if key == "serviceTime" || key.hasSuffix(".serviceTime") { return key }
        return key + ".latency"
    }

    static func thresholdKey(storedKey key: String) -> String {
        if key == "latency" { return "" }
        if key.hasSuffix(".latency") { return String(key.dropLast(".latency".count)) }
        return key
    }
}
