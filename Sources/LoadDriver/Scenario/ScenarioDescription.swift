import Foundation

/// Short human descriptions of a scenario's configuration, shared by the HTML and Markdown output.
package enum ScenarioDescription {
    /// `paced users, 10 req/s each (5,000 req/s)`, `constant arrival rate 5,000 req/s`, ...
    package static func load(_ scenario: Scenario) -> String {
        switch scenario.load {
        case .pacedUsers(let perUser):
            return "paced users, \(ReportFormat.plain(perUser)) req/s each (\(ReportFormat.rate(perUser * Double(scenario.users))))"
        case .concurrentUsers(let perUser):
            return "concurrent users, one request at a time, \(ReportFormat.plain(perUser)) req/s each (offered \(ReportFormat.rate(perUser * Double(scenario.users))))"
        case .constantArrivalRate(let rate):
            return "constant arrival rate \(ReportFormat.rate(rate))"
        case .rampingArrivalRate(let start, let stages):
            let steps = stages.map { "\(ReportFormat.plain($0.targetRate)) in \(ReportFormat.plain($0.durationSeconds))s" }
            return "ramping arrival rate from \(ReportFormat.plain(start)) req/s" + (steps.isEmpty ? "" : ": " + steps.joined(separator: " → "))
        case .closedLoop(let think):
            return think > 0 ? "closed loop, think time \(ReportFormat.plain(think)) s" : "closed loop, no think time"
        }
    }

    /// Short form for tables: `paced 10/s`, `rate 5k/s`, `ramp`, `closed`.
    package static func loadShort(_ scenario: Scenario) -> String {
        switch scenario.load {
        case .pacedUsers(let perUser): return "paced \(ReportFormat.plain(perUser))/s/user"
        case .concurrentUsers(let perUser): return "users \(ReportFormat.plain(perUser))/s each"
        case .constantArrivalRate(let rate): return "rate \(ReportFormat.plain(rate))/s"
        case .rampingArrivalRate: return "ramping"
        case .closedLoop: return "closed loop"
        }
    }

    /// `30 s measured after 2 s warm-up` or `1,000 requests`.
    package static func length(_ scenario: Scenario, measuredSeconds: Double) -> String {
        var parts: [String] = []
        if let d = scenario.durationSeconds {
            parts.append("\(ReportFormat.plain(d)) s")
        }
        if let m = scenario.maxRequests {
            parts.append("\(ReportFormat.count(m)) requests")
        }
        var text = parts.joined(separator: " or ")
        if scenario.warmUpSeconds > 0 { text += " after \(ReportFormat.plain(scenario.warmUpSeconds)) s warm-up" }
        if measuredSeconds > 0 { text += " (measured \(ReportFormat.duration(measuredSeconds)))" }
        return text
    }

    /// `verify 90%, login 5%, refresh 5%`.
    package static func mix(_ scenario: Scenario) -> String {
        let total = scenario.mix.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return "" }
        return scenario.mix.map { "\($0.request.name) \(ReportFormat.plain($0.weight / total * 100))%" }.joined(separator: ", ")
    }
}
