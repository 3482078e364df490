import Foundation
import Histogram

extension LoadTestResult {
    /// Why results cannot be merged.
    public struct MergeError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One result for shards that drove the same target at the same time (one per machine or process): counts and
    /// rates add up, latency statistics come from the union of the shards' histograms (exact, not averaged), the
    /// thresholds of the first shard's scenario are evaluated again. The per-second series stays with each shard
    /// (its seconds are not aligned across machines), so the merged result has none.
    public static func merged(_ shards: [LoadTestResult]) throws(MergeError) -> LoadTestResult {
        guard let first = shards.first else { throw MergeError(description: "nothing to merge") }
        var histograms: [String: Histogram<UInt64>] = [:]
        for shard in shards {
            guard let encoded = shard.histograms, !encoded.isEmpty else {
                throw MergeError(description: "result \(shard.runId) (\(shard.scenario.name)) has no histograms to merge")
            }
            for (storedKey, text) in encoded {
                let histogram: Histogram<UInt64>
                do { histogram = try HdrHistogramCodec.decode(text) } catch {
                    throw MergeError(description: "result \(shard.runId): histogram \(storedKey): \(error.description)")
                }
                let key = Self.thresholdKey(storedKey: storedKey)
                if histograms[key] == nil { histograms[key] = histogram } else { histograms[key]!.add(histogram) }
            }
        }
        func stats(_ key: String) -> LatencyStats {
            histograms[key].map { LatencyStats(microseconds: $0) } ?? LatencyStats()
        }
        func sum<T: AdditiveArithmetic>(_ value: (LoadTestResult) -> T) -> T { shards.reduce(.zero) { $0 + value($1) } }
        func rate(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }

        let requests = sum { $0.summary.requests }
        let succeeded = sum { $0.summary.succeeded }
        let failed = sum { $0.summary.failed }
        let targets = shards.map(\.summary.targetRate)
        let skipped = shards.compactMap(\.summary.skipped)
        let summary = Summary(
            requests: requests, succeeded: succeeded, failed: failed,
            successRate: requests == 0 ? 1 : rate(succeeded, requests), failureRate: rate(failed, requests),
            targetRate: targets.contains(nil) ? nil : targets.reduce(0) { $0 + ($1 ?? 0) },
            achievedRate: sum { $0.summary.achievedRate },
            measuredSeconds: shards.map(\.summary.measuredSeconds).max() ?? 0,
            late: sum { $0.summary.late }, dropped: sum { $0.summary.dropped },
            latencyMs: stats(""), serviceTimeMs: stats("serviceTime"),
            skipped: skipped.isEmpty ? nil : skipped.reduce(0, +))

        var endpoints: [String: EndpointStats] = [:]
        for name in Set(shards.flatMap { $0.endpoints.keys }) {
            let parts = shards.compactMap { $0.endpoints[name] }
            let requests = parts.reduce(0) { $0 + $1.requests }
            let succeeded = parts.reduce(0) { $0 + $1.succeeded }
            let failed = parts.reduce(0) { $0 + $1.failed }
            endpoints[name] = EndpointStats(
                requests: requests, succeeded: succeeded, failed: failed,
                successRate: requests == 0 ? 1 : rate(succeeded, requests), failureRate: rate(failed, requests),
                achievedRate: parts.reduce(0) { $0 + $1.achievedRate },
                latencyMs: stats(name), serviceTimeMs: stats(name + ".serviceTime"))
        }

        var scenario = first.scenario
        scenario.users = sum { $0.scenario.users }
        var statusCodes: [String: Int] = [:]
        var errorCounts: [String: Int] = [:]
        for shard in shards {
            statusCodes.merge(shard.statusCodes, uniquingKeysWith: +)
            errorCounts.merge(shard.errors.counts, uniquingKeysWith: +)
        }
        var driver = first.driver
        driver.connectionsOpened = sum { $0.driver.connectionsOpened }
        driver.reconnects = sum { $0.driver.reconnects }
        driver.stopReason = Array(Set(shards.map(\.driver.stopReason))).sorted().joined(separator: ",")
        var environment = first.environment
        environment.extra["mergedFrom"] = shards.map(\.runId).joined(separator: ",")

        var result = LoadTestResult(
            schemaVersion: first.schemaVersion, scenario: scenario, environment: environment, runId: "merged-" + first.runId,
            startedAt: shards.map(\.startedAt).min() ?? first.startedAt, summary: summary,
            latencyDistribution: histograms[""]?.percentileDistribution() ?? [], endpoints: endpoints,
            statusCodes: statusCodes,
            errors: ErrorReport(
                total: sum { $0.errors.total }, counts: errorCounts,
                samples: Array(shards.flatMap(\.errors.samples).prefix(10)),
                setupFailures: sum { $0.errors.setupFailures }, warmUpFailures: sum { $0.errors.warmUpFailures }),
            timeSeries: [], pool: first.pool, driver: driver, thresholds: [], passed: true,
            requestsSent: shards.compactMap(\.requestsSent).reduce(into: nil as [String: Int]?) { total, sent in
                total = (total ?? [:]).merging(sent, uniquingKeysWith: +)
            })
        let thresholds = (try? Threshold.parseAll(scenario.thresholds)) ?? []
        result.thresholds = thresholds.map { $0.evaluate(in: result, histograms: histograms) }
        result.settleVerdict()
        result.histograms = Self.encodedHistograms(histograms)
        return result
    }
}
