import Foundation
import LoadDriver
import Testing

/// The example scenario file in docs/ stays a valid scenario.
@Suite("Scenario files")
struct ScenarioFileTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../docs/examples/scenario.json").standardizedFileURL

    @Test func theExampleDecodesAndValidates() throws {
        let scenario = try JSONDecoder().decode(Scenario.self, from: Data(contentsOf: Self.example))
        try scenario.validate()
        #expect(scenario.users == 200)
        #expect(scenario.load == .concurrentUsers(ratePerUser: 10))
        #expect(scenario.mix.map(\.request.name) == ["verify", "login", "refresh"])
        for expression in scenario.thresholds { _ = try Threshold(parsing: expression) }
    }
}
