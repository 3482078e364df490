import Foundation

/// Number formatting shared by the HTML, Markdown and SVG output: short, unit-bearing, never `NaN`.
package enum ReportFormat {
    /// Milliseconds with precision that suits the magnitude: `0.412 ms`, `12.3 ms`, `1,234 ms`, `12.5 s`.
    package static func ms(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        let a = abs(value)
        if a >= 10_000 { return String(format: "%.1f s", value / 1000) }
        if a >= 1000 { return grouped(value) + " ms" }
        if a >= 100 { return String(format: "%.0f ms", value) }
        if a >= 10 { return String(format: "%.1f ms", value) }
        if a >= 1 { return String(format: "%.2f ms", value) }
        return String(format: "%.3f ms", value)
    }

    /// Milliseconds without a unit, for axis ticks.
    package static func msTick(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        let a = abs(value)
        if a >= 10_000 { return String(format: "%.0fs", value / 1000) }
        if a >= 1000 { return String(format: "%.1fs", value / 1000).replacingOccurrences(of: ".0s", with: "s") }
        return plain(value)
    }

    /// A 0...1 fraction as a percentage: `99.95%`, `100%`, `0%`.
    package static func percent(_ fraction: Double?) -> String {
        guard let fraction, fraction.isFinite else { return "–" }
        let p = fraction * 100
        if p == 100 || p == 0 { return String(format: "%.0f%%", p) }
        if abs(p) >= 99.99 && abs(p) < 100 { return String(format: "%.3f%%", p) }
        if abs(p) < 0.01 { return trimmed(String(format: "%.4f", p)) + "%" }
        return trimmed(String(format: "%.2f", p)) + "%"
    }

    /// Requests per second: `19,873 req/s`.
    package static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return grouped(value) + " req/s"
    }

    /// An integer count with thousands separators.
    package static func count(_ value: Int) -> String { grouped(Double(value)) }

    /// Rounded, with `,` thousands separators (locale-independent).
    package static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let rounded = Int64(value.rounded())
        let digits = String(abs(rounded))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return rounded < 0 ? "-" + out : out
    }

    /// A short plain number for ticks: `0`, `2.5`, `120`, `1.5k`, `20k`.
    package static func plain(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        let a = abs(value)
        if a >= 1_000_000 { return trimmed(String(format: "%.1f", value / 1_000_000)) + "M" }
        if a >= 10_000 { return trimmed(String(format: "%.1f", value / 1000)) + "k" }
        if a >= 100 || a == a.rounded() { return String(format: "%.0f", value) }
        if a >= 1 { return trimmed(String(format: "%.2f", value)) }
        return trimmed(String(format: "%.3f", value))
    }

    /// A signed relative change: `+12.5%`, `-3.0%`, `±0%`.
    package static func relativeChange(_ change: Double?) -> String {
        guard let change, change.isFinite else { return "n/a" }
        let p = change * 100
        if abs(p) < 0.05 { return "±0%" }
        if abs(p) >= 1000 { return String(format: "%+.0fx", change + 1).replacingOccurrences(of: "+", with: "×") }
        return String(format: "%+.1f%%", p)
    }

    /// A threshold value in the unit family its expression uses.
    package static func thresholdValue(_ value: Double?, expression: String) -> String {
        guard let value, value.isFinite else { return "–" }
        switch ThresholdUnitFamily(expression: expression) {
        case .latency: return ms(value)
        case .fraction: return percent(value)
        case .rate: return rate(value)
        case .count: return grouped(value)
        case .raw: return plain(value)
        }
    }

    /// Seconds as `2m 05s` or `12.0 s`.
    package static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "–" }
        if seconds >= 120 {
            let s = Int(seconds.rounded())
            return String(format: "%dm %02ds", s / 60, s % 60)
        }
        return String(format: "%.1f s", seconds)
    }

    private static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}

/// How a threshold's `actual` and `limit` should be displayed, decided from its expression.
package enum ThresholdUnitFamily: Equatable {
    case latency, fraction, rate, count, raw

    package init(expression: String) {
        guard let threshold = try? Threshold(parsing: expression) else {
            self = .raw
            return
        }
        switch threshold.metric {
        case .pool(let field):
            if threshold.unit == .percent || field == PoolField.utilization {
                self = .fraction
            } else if field.hasSuffix("Ms") || field.contains("Ms.") {
                self = .latency
            } else {
                self = .raw
            }
        case .request(_, _, let aggregate):
            switch aggregate {
            case .percentile, .min, .max, .mean, .stddev: self = .latency
            case .failureRate, .successRate: self = .fraction
            case .achievedRate: self = threshold.unit == .percent ? .fraction : .rate
            case .requests, .succeeded, .failed, .late, .dropped: self = .count
            }
        }
    }
}
