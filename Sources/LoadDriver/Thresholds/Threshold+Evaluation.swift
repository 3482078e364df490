import Histogram

extension Threshold {
    /// Evaluates this threshold against `result`. Arbitrary percentiles (e.g. `p(99.99)`) are read from `histograms`
    /// when given (keys: "" overall latency, "serviceTime", "<endpoint>", "<endpoint>.serviceTime"), otherwise from
    /// the stored statistics (p50/75/90/95/99/99.9/max) and, for overall latency, the stored distribution.
    public func evaluate(in result: LoadTestResult) -> ThresholdResult {
        self.evaluate(in: result, histograms: [:])
    }

    package func evaluate(in result: LoadTestResult, histograms: [String: Histogram<UInt64>]) -> ThresholdResult {
        let limit = self.normalizedLimit
        func missing(_ note: String) -> ThresholdResult {
            ThresholdResult(expression: self.expression, actual: nil, limit: limit, ok: false, note: note)
        }
        let actual: Double
        switch self.metric {
        case .pool(let field):
            guard let pool = result.pool else { return missing("no pool samples (pool monitoring off or unreachable)") }
            guard let v = pool.peak[field] else {
                return missing("pool field '\(field)' not reported; available: \(pool.peak.keys.sorted().joined(separator: ", "))")
            }
            actual = v
        case .request(let endpoint, let serviceTime, let aggregate):
            let counts: (requests: Int, succeeded: Int, failed: Int, successRate: Double, failureRate: Double, achieved: Double)
            let stats: LatencyStats
            if let endpoint {
                guard let e = result.endpoints[endpoint] else {
                    return missing("no endpoint '\(endpoint)'; known: \(result.endpoints.keys.sorted().joined(separator: ", "))")
                }
                counts = (e.requests, e.succeeded, e.failed, e.successRate, e.failureRate, e.achievedRate)
                stats = serviceTime ? e.serviceTimeMs : e.latencyMs
            } else {
                let s = result.summary
                counts = (s.requests, s.succeeded, s.failed, s.successRate, s.failureRate, s.achievedRate)
                stats = serviceTime ? s.serviceTimeMs : s.latencyMs
            }
            switch aggregate {
            case .percentile(let p):
                let key = [endpoint, serviceTime ? "serviceTime" : nil].compactMap { $0 }.joined(separator: ".")
                if let h = histograms[key] {
                    actual = h.totalCount == 0 ? 0 : Double(h.valueAtPercentile(p)) / 1000
                } else if let v = stats.percentile(p) {
                    actual = v
                } else if endpoint == nil, !serviceTime, !result.latencyDistribution.isEmpty {
                    actual = result.latencyDistribution.first(where: { $0.percentile >= p })?.valueMs ?? stats.max
                } else {
                    return missing("p(\(p)) is not stored for this metric; use 50, 75, 90, 95, 99 or 99.9")
                }
            case .min: actual = stats.min
            case .max: actual = stats.max
            case .mean: actual = stats.mean
            case .stddev: actual = stats.stddev
            case .failureRate: actual = counts.failureRate
            case .successRate: actual = counts.successRate
            case .achievedRate:
                if self.unit == .percent {
                    guard endpoint == nil else { return missing("achievedRate in % applies to the whole run only") }
                    guard let target = result.summary.targetRate, target > 0 else {
                        return missing("no target rate (closed loop): use an absolute achievedRate in req/s")
                    }
                    actual = counts.achieved / target
                } else {
                    actual = counts.achieved
                }
            case .requests: actual = Double(counts.requests)
            case .succeeded: actual = Double(counts.succeeded)
            case .failed: actual = Double(counts.failed)
            case .late: actual = Double(result.summary.late)
            case .dropped: actual = Double(result.summary.dropped)
            }
        }
        return ThresholdResult(expression: self.expression, actual: actual, limit: limit, ok: self.comparison.holds(actual, limit))
    }
}

extension Threshold {
    /// Parses every expression; the first bad one throws.
    public static func parseAll(_ expressions: [String]) throws(ThresholdError) -> [Threshold] {
        var out: [Threshold] = []
        for e in expressions { out.append(try Threshold(parsing: e)) }
        return out
    }
}

extension LoadTestResult {
    /// Re-evaluates `expressions` (e.g. extra CLI thresholds) and updates `thresholds` and `passed`.
    public mutating func applyThresholds(_ expressions: [String]) throws(ThresholdError) {
        let parsed = try Threshold.parseAll(expressions)
        self.thresholds = parsed.map { $0.evaluate(in: self) }
        self.settleVerdict()
    }
}
