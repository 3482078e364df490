import Foundation
import LoadDriver

/// Errors per second split by kind.
///
/// A result that recorded each second's errors by kind (``TimeSeriesPoint/errorsByKind``) is shown as recorded:
/// exact. An older result kept only the per-second totals, so the split is derived from them, the overall counts
/// per kind and the first samples of each kind (with their times): a kind whose every error was kept as a sample is
/// placed exactly; the rest of each second's errors are split over the other kinds in proportion to their samples in
/// that second, or to their overall counts when that second has no sample; `isEstimated` says when that happened.
package struct ErrorTimeline: Sendable, Equatable {
    /// Where the split by kind comes from.
    package enum Basis: Sendable, Equatable {
        /// Recorded per second by kind during the run: exact.
        case recorded
        /// Derived from per-second totals, counts per kind and kept samples (results without per-second kinds).
        case derived
    }

    /// Kind → second → errors.
    package var perKind: [String: [Int: Double]]
    package var basis: Basis
    /// True when part of a derived split was apportioned by weight rather than placed (never for `.recorded`).
    package var isEstimated: Bool

    package init(result: LoadTestResult) {
        let failing = result.timeSeries.filter { $0.errors > 0 }
        if failing.allSatisfy({ $0.errorsByKind != nil }) {
            var perKind: [String: [Int: Double]] = [:]
            for point in failing {
                for (kind, n) in point.errorsByKind ?? [:] where n > 0 {
                    perKind[kind, default: [:]][point.second, default: 0] += Double(n)
                }
            }
            self.perKind = perKind
            self.basis = .recorded
            self.isEstimated = false
            return
        }
        self.basis = .derived
        let samples = result.errors.samples.filter { $0.atSeconds >= 0 }
        var kindsOrdered: [String] = []
        func note(_ kind: String) { if !kindsOrdered.contains(kind) { kindsOrdered.append(kind) } }
        for kind in ErrorKind.allCases where (result.errors.counts[kind.rawValue] ?? 0) > 0 { note(kind.rawValue) }
        for (kind, count) in result.errors.counts.sorted(by: { $0.key < $1.key }) where count > 0 { note(kind) }
        for sample in samples { note(sample.kind.rawValue) }

        var samplesBySecond: [Int: [String: Int]] = [:]
        var samplesByKind: [String: Int] = [:]
        for sample in samples {
            samplesBySecond[Int(sample.atSeconds.rounded(.down)), default: [:]][sample.kind.rawValue, default: 0] += 1
            samplesByKind[sample.kind.rawValue, default: 0] += 1
        }
        // Kinds whose samples cover every counted error of the measured window are exact.
        let exact = Set(kindsOrdered.filter { kind in
            let counted = result.errors.counts[kind] ?? 0
            return counted > 0 && (samplesByKind[kind] ?? 0) >= counted
        })
        let openKinds = kindsOrdered.filter { !exact.contains($0) }

        var perKind: [String: [Int: Double]] = [:]
        var estimated = false
        for point in result.timeSeries where point.errors > 0 {
            let inSecond = samplesBySecond[point.second] ?? [:]
            var placed = 0
            for kind in exact {
                let n = inSecond[kind] ?? 0
                if n > 0 {
                    perKind[kind, default: [:]][point.second, default: 0] += Double(n)
                    placed += n
                }
            }
            let remaining = point.errors - placed
            guard remaining > 0 else { continue }
            // Weights for the remainder: this second's samples of open kinds, else their overall counts.
            var weights: [String: Double] = [:]
            for kind in openKinds { if let n = inSecond[kind], n > 0 { weights[kind] = Double(n) } }
            if weights.isEmpty {
                for kind in openKinds { weights[kind] = Double(max(result.errors.counts[kind] ?? 0, samplesByKind[kind] ?? 0)) }
                weights = weights.filter { $0.value > 0 }
            }
            if weights.isEmpty {
                weights = ["other": 1]
            }
            if openKinds.count > 1 || weights["other"] != nil { estimated = true }
            for (kind, share) in Self.apportion(remaining, weights: weights, order: kindsOrdered + ["other"]) where share > 0 {
                perKind[kind, default: [:]][point.second, default: 0] += Double(share)
            }
        }
        self.perKind = perKind
        self.isEstimated = estimated
    }

    /// Splits `total` by `weights` with the largest-remainder method (the parts add up to `total`).
    package static func apportion(_ total: Int, weights: [String: Double], order: [String]) -> [(String, Int)] {
        let keys = weights.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }
        let sum = keys.reduce(0) { $0 + weights[$1]! }
        guard sum > 0 else { return [] }
        var parts = keys.map { key -> (String, Int, Double) in
            let exact = Double(total) * weights[key]! / sum
            return (key, Int(exact.rounded(.down)), exact - exact.rounded(.down))
        }
        var left = total - parts.reduce(0) { $0 + $1.1 }
        for i in parts.indices.sorted(by: { parts[$0].2 > parts[$1].2 }) where left > 0 {
            parts[i].1 += 1
            left -= 1
        }
        return parts.map { ($0.0, $0.1) }
    }

    /// Bar layers in ``ErrorKind`` order.
    package var layers: [BarLayer] {
        let order = ErrorKind.allCases.map(\.rawValue)
        return perKind.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }.map {
            BarLayer(name: $0, color: ChartPalette.color(forErrorKind: $0), values: perKind[$0] ?? [:])
        }
    }
}
