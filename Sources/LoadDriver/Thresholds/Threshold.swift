/// A parsed k6-style threshold expression such as `p(95) < 500ms`, `failureRate < 1%`, `achievedRate >= 95%`,
/// `pool.utilization < 50%` or `verify.p(99) < 50ms`.
///
/// Grammar: `[endpoint.][serviceTime.]aggregate op number [unit]` or `pool.field op number [unit]`.
/// - aggregates: `p(N)` (0 < N <= 100), `min`, `max`, `mean`/`avg`, `med`, `stddev` — latency in ms; units `us`, `ms`
///   (default), `s`. Latency is the corrected latency unless `serviceTime.` is given.
/// - `failureRate`, `successRate`: fractions 0..1; a `%` limit is divided by 100 (`< 1%` means `< 0.01`).
/// - `achievedRate`: with `%` the fraction of the target rate (`>= 95%` means achieved/target >= 0.95); without a unit
///   absolute req/s.
/// - `requests`, `succeeded`, `failed`, `late`, `dropped`: counts, no unit.
/// - `pool.X`: the peak of pool field `X` over the run (`%` divides by 100, time units compare in ms).
/// - operators: `<`, `<=`, `>`, `>=`, `==`, `!=`.
public struct Threshold: Sendable, Equatable, CustomStringConvertible {
    public enum Aggregate: Sendable, Equatable {
        case percentile(Double)
        case min, max, mean, stddev
        case failureRate, successRate, achievedRate
        case requests, succeeded, failed, late, dropped
    }

    public enum Metric: Sendable, Equatable {
        /// `endpoint` nil = overall; `serviceTime` selects service time instead of corrected latency.
        case request(endpoint: String?, serviceTime: Bool, aggregate: Aggregate)
        case pool(field: String)
    }

    public enum Comparison: String, Sendable, Equatable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="

        public func holds(_ actual: Double, _ limit: Double) -> Bool {
            switch self {
            case .less: return actual < limit
            case .lessOrEqual: return actual <= limit
            case .greater: return actual > limit
            case .greaterOrEqual: return actual >= limit
            case .equal: return actual == limit
            case .notEqual: return actual != limit
            }
        }
    }

    public enum Unit: String, Sendable, Equatable {
        case microseconds = "us", milliseconds = "ms", seconds = "s", percent = "%"
    }

    /// The source text.
    public let expression: String
    public let metric: Metric
    public let comparison: Comparison
    /// The limit as written (before unit conversion).
    public let value: Double
    public let unit: Unit?

    public var description: String { self.expression }

    /// The limit in the unit family `actual` is reported in (ms, fraction, req/s, count, raw pool value).
    public var normalizedLimit: Double {
        switch self.unit {
        case .microseconds: return self.value / 1000
        case .milliseconds, nil: return self.value
        case .seconds: return self.value * 1000
        case .percent: return self.value / 100
        }
    }

    /// Parses `expression`; throws ``ThresholdError`` with the character position of the problem.
    public init(parsing expression: String) throws(ThresholdError) {
        var parser = ThresholdParser(expression)
        let parsed = try parser.parse()
        self.expression = expression
        self.metric = parsed.metric
        self.comparison = parsed.comparison
        self.value = parsed.value
        self.unit = parsed.unit
    }
}

/// A threshold expression that could not be parsed.
public struct ThresholdError: Error, Sendable, Equatable, CustomStringConvertible {
    public var expression: String
    /// 0-based character offset of the problem.
    public var position: Int
    public var message: String
    public init(expression: String, position: Int, message: String) {
        self.expression = expression
        self.position = position
        self.message = message
    }

    public var description: String {
        "invalid threshold '\(self.expression)' at position \(self.position): \(self.message)\n  \(self.expression)\n  "
            + String(repeating: " ", count: max(0, self.position)) + "^"
    }
}

struct ThresholdParser {
    let text: String
    let chars: [Character]
    var pos = 0

    init(_ text: String) {
        self.text = text
        self.chars = Array(text)
    }

    func fail(_ message: String, at position: Int? = nil) -> ThresholdError {
        ThresholdError(expression: self.text, position: position ?? self.pos, message: message)
    }

    var current: Character? { self.pos < self.chars.count ? self.chars[self.pos] : nil }

    mutating func skipSpaces() {
        while let c = self.current, c == " " || c == "\t" { self.pos += 1 }
    }

    mutating func identifier() -> String {
        var s = ""
        while let c = self.current, c.isLetter || c.isNumber || c == "_" || c == "-" {
            s.append(c)
            self.pos += 1
        }
        return s
    }

    mutating func number() throws(ThresholdError) -> Double {
        let start = self.pos
        var s = ""
        while let c = self.current, c.isNumber || c == "." || c == "_" {
            if c != "_" { s.append(c) }
            self.pos += 1
        }
        guard !s.isEmpty else { throw self.fail("expected a number") }
        guard let v = Double(s), v.isFinite else { throw self.fail("'\(s)' is not a number", at: start) }
        return v
    }

    enum Component { case name(String, Int), percentile(Double, Int) }

    mutating func parse() throws(ThresholdError) -> (metric: Threshold.Metric, comparison: Threshold.Comparison, value: Double, unit: Threshold.Unit?) {
        self.skipSpaces()
        guard self.current != nil else { throw self.fail("empty expression") }
        // Metric path.
        var components: [Component] = []
        while true {
            let start = self.pos
            let name = self.identifier()
            if name.isEmpty {
                throw self.fail(components.isEmpty ? "expected a metric such as p(95), max, failureRate or pool.utilization" : "expected a name after '.'")
            }
            if name == "p" && self.current == "(" {
                self.pos += 1
                self.skipSpaces()
                let nStart = self.pos
                let n = try self.number()
                guard n > 0 && n <= 100 else { throw self.fail("percentile must be in (0, 100], got \(n)", at: nStart) }
                self.skipSpaces()
                guard self.current == ")" else { throw self.fail("expected ')' to close p(") }
                self.pos += 1
                components.append(.percentile(n, start))
            } else {
                components.append(.name(name, start))
            }
            if self.current == "." {
                self.pos += 1
                continue
            }
            break
        }
        let metric = try self.interpret(components)
        // Operator.
        self.skipSpaces()
        let opStart = self.pos
        var op = ""
        while let c = self.current, "<>=!".contains(c) {
            op.append(c)
            self.pos += 1
        }
        guard !op.isEmpty else { throw self.fail("expected a comparison operator (<, <=, >, >=, ==, !=)") }
        guard let comparison = Threshold.Comparison(rawValue: op) else {
            throw self.fail("unknown operator '\(op)'", at: opStart)
        }
        // Number + unit.
        self.skipSpaces()
        if self.current == "-" { throw self.fail("limits must not be negative") }
        let value = try self.number()
        self.skipSpaces()
        let unitStart = self.pos
        var unitText = ""
        while let c = self.current, c != " " && c != "\t" {
            unitText.append(c)
            self.pos += 1
        }
        var unit: Threshold.Unit? = nil
        if !unitText.isEmpty {
            let normalized = unitText == "µs" ? "us" : unitText
            guard let u = Threshold.Unit(rawValue: normalized) else {
                throw self.fail("unknown unit '\(unitText)' (use ms, s, us or %)", at: unitStart)
            }
            unit = u
        }
        self.skipSpaces()
        if self.current != nil { throw self.fail("unexpected text after the limit") }
        try self.checkUnit(unit, for: metric, at: unitStart)
        return (metric, comparison, value, unit)
    }

    func interpret(_ components: [Component]) throws(ThresholdError) -> Threshold.Metric {
        if case .name("pool", let at) = components.first {
            let rest = components.dropFirst()
            guard !rest.isEmpty else { throw self.fail("expected a pool field after 'pool.', e.g. pool.utilization", at: at + 4) }
            var names: [String] = []
            for c in rest {
                guard case .name(let n, _) = c else { throw self.fail("pool fields are names, not p(N)", at: at) }
                names.append(n)
            }
            return .pool(field: names.joined(separator: "."))
        }
        guard let last = components.last else { throw self.fail("expected a metric") }
        let aggregate: Threshold.Aggregate
        switch last {
        case .percentile(let n, _):
            aggregate = .percentile(n)
        case .name(let n, let at):
            switch n {
            case "min": aggregate = .min
            case "max": aggregate = .max
            case "mean", "avg": aggregate = .mean
            case "med", "median": aggregate = .percentile(50)
            case "stddev": aggregate = .stddev
            case "failureRate": aggregate = .failureRate
            case "successRate": aggregate = .successRate
            case "achievedRate": aggregate = .achievedRate
            case "requests", "count": aggregate = .requests
            case "succeeded": aggregate = .succeeded
            case "failed": aggregate = .failed
            case "late": aggregate = .late
            case "dropped": aggregate = .dropped
            default:
                throw self.fail(
                    "unknown metric '\(n)' (use p(N), min, max, mean, med, stddev, failureRate, successRate, achievedRate, requests, failed, late, dropped or pool.X)",
                    at: at)
            }
        }
        var endpoint: String? = nil
        var serviceTime = false
        for c in components.dropLast() {
            guard case .name(let n, let at) = c else {
                throw self.fail("p(N) must be the last part of a metric", at: 0)
            }
            if n == "serviceTime" {
                guard !serviceTime else { throw self.fail("'serviceTime' given twice", at: at) }
                serviceTime = true
            } else if n == "latency" {
                continue
            } else {
                guard endpoint == nil, !serviceTime else { throw self.fail("expected 'endpoint.metric', got an extra '\(n)'", at: at) }
                endpoint = n
            }
        }
        if serviceTime {
            switch aggregate {
            case .percentile, .min, .max, .mean, .stddev: break
            default: throw self.fail("serviceTime applies to latency aggregates only")
            }
        }
        return .request(endpoint: endpoint, serviceTime: serviceTime, aggregate: aggregate)
    }

    func checkUnit(_ unit: Threshold.Unit?, for metric: Threshold.Metric, at position: Int) throws(ThresholdError) {
        guard case .request(_, _, let aggregate) = metric else { return }
        switch aggregate {
        case .percentile, .min, .max, .mean, .stddev:
            if unit == .percent { throw self.fail("a latency limit needs a time unit (ms, s, us), not %", at: position) }
        case .failureRate, .successRate, .achievedRate:
            if let unit, unit != .percent {
                throw self.fail("a rate limit takes % or a plain number, not '\(unit.rawValue)'", at: position)
            }
        case .requests, .succeeded, .failed, .late, .dropped:
            if let unit { throw self.fail("a count takes no unit, got '\(unit.rawValue)'", at: position) }
        }
    }
}
