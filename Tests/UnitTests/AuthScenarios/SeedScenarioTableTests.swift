import AuthScenarios
import Foundation
import LoadDriver
import Testing

/// The README's scenario table is the seed scenarios as `Scenario+Seed.swift` defines them: this test renders each
/// row from the definitions and requires the README to hold exactly these rows.
@Suite("README scenario table")
struct SeedScenarioTableTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../README.md").standardizedFileURL

    static func row(_ scenario: Scenario) -> String {
        let load: String
        switch scenario.load {
        case .closedLoop:
            load = scenario.maxRequests.map { "\(grouped($0)) requests, closed loop" } ?? "closed loop"
        case .concurrentUsers(let perUser):
            load = "\(grouped(Int(perUser))) req/s per user (\(grouped(Int(perUser * Double(scenario.users)))) offered)"
        case .pacedUsers(let perUser):
            load = "open: \(grouped(Int(perUser))) req/s per user (\(grouped(Int(perUser * Double(scenario.users)))) offered)"
        case .constantArrivalRate(let rate):
            load = "\(grouped(Int(rate))) req/s"
        case .rampingArrivalRate:
            load = "ramping arrival rate"
        }
        let duration = scenario.durationSeconds.map { "\(Int($0)) s" } ?? "—"
        let thresholds = scenario.thresholds.map { "`\($0)`" }.joined(separator: ", ")
        return "| \(scenario.name) | \(grouped(scenario.users)) | \(load) | \(duration) | \(thresholds) |"
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    @Test func readmeShowsEverySeedScenarioAsDefined() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let expected = [Scenario.quick, .baseline, .stress, .ultimate, .stressOpen].map(Self.row)
        let tableRows = text.split(separator: "\n").map(String.init).filter { line in
            Scenario.builtIn.values.contains { line.hasPrefix("| \($0.name) |") }
        }
        #expect(tableRows == expected, "README.md's scenario table should read:\n\(expected.joined(separator: "\n"))")
    }
}
