import Foundation
import Histogram

/// A running load test, as the live progress line shows it (``LoadRunner/Configuration/onProgress``).
public struct RunProgress: Sendable {
    /// Seconds since the load phase started (warm-up included).
    public var elapsedSeconds: Double
    /// Warm-up plus measured duration; `nil` for a run bounded by request count only.
    public var plannedSeconds: Double?
    public var inWarmUp: Bool
    /// Requests completed so far, and of them failed (warm-up included).
    public var requests: Int
    public var errors: Int
    /// Completed requests per second over the last window (the progress interval), and its p95 latency in ms.
    public var windowRate: Double?
    public var targetRate: Double?
    public var windowP95Ms: Double?
    /// The fields of the last poll of the pool-metrics endpoint, flattened like ``PoolReport``.
    public var poolFields: [String: Double]?
    /// The pool's ``PoolField/utilization`` from the last poll.
    public var poolUtilization: Double? { self.poolFields?[PoolField.utilization] }
    /// The corrected latencies of the window (µs).
    package var window: Histogram<UInt64>?

    public init(
        elapsedSeconds: Double, plannedSeconds: Double?, inWarmUp: Bool, requests: Int, errors: Int,
        windowRate: Double?, targetRate: Double?, windowP95Ms: Double?, poolFields: [String: Double]?
    ) {
        self.elapsedSeconds = elapsedSeconds
        self.plannedSeconds = plannedSeconds
        self.inWarmUp = inWarmUp
        self.requests = requests
        self.errors = errors
        self.windowRate = windowRate
        self.targetRate = targetRate
        self.windowP95Ms = windowP95Ms
        self.poolFields = poolFields
    }

    /// A percentile (0...100) of the window's corrected latency in ms; `nil` when nothing completed in the window.
    public func windowLatencyMs(percentile: Double) -> Double? {
        guard let window, window.totalCount > 0 else { return nil }
        if percentile <= 0 { return Double(window.min) / 1000 }
        if percentile >= 100 { return Double(window.max) / 1000 }
        return Double(window.valueAtPercentile(percentile)) / 1000
    }

    /// The window's mean corrected latency in ms.
    public var windowMeanMs: Double? {
        guard let window, window.totalCount > 0 else { return nil }
        return window.mean / 1000
    }

    /// One line: `12s/32s  4,998/5,000 req/s  p95 3.1 ms  errors 0 (0.00%)  pool 1.2%`.
    public var line: String {
        var parts: [String] = []
        let elapsed = "\(Int(elapsedSeconds))s"
        parts.append(plannedSeconds.map { "\(elapsed)/\(Int($0.rounded()))s" } ?? elapsed)
        if inWarmUp { parts.append("(warm-up)") }
        let rate = windowRate.map { Self.integer($0) } ?? "-"
        parts.append(targetRate.map { "\(rate)/\(Self.integer($0)) req/s" } ?? "\(rate) req/s")
        if let windowP95Ms { parts.append("p95 " + (windowP95Ms >= 100 ? "\(Int(windowP95Ms)) ms" : String(format: "%.1f ms", windowP95Ms))) }
        let share = requests > 0 ? Double(errors) / Double(requests) * 100 : 0
        parts.append("errors \(Self.integer(Double(errors))) (\(String(format: "%.2f", share))%)")
        if let poolUtilization { parts.append(String(format: "pool %.1f%%", poolUtilization * 100)) }
        return parts.joined(separator: "  ")
    }

    private static func integer(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 && character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
