import ArgumentParser
import Foundation
import LoadDriver

/// `loaddriver compare current.json baseline.json`: exits 99 on regression.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a result with a baseline result; exit 99 on regression."
    )

    @Argument(help: "The current result JSON.")
    var current: String

    @Argument(help: "The baseline result JSON.")
    var baseline: String

    @OptionGroup var tolerances: ToleranceOptions

    @Flag(help: "Print the comparison as JSON instead of a table.")
    var json = false

    func run() throws {
        let current: LoadTestResult
        let baseline: LoadTestResult
        do {
            current = try LoadTestResult.load(from: URL(fileURLWithPath: self.current))
            baseline = try LoadTestResult.load(from: URL(fileURLWithPath: self.baseline))
        } catch {
            printError("cannot read results: \(error)")
            throw ExitCode(ExitCodes.usage)
        }
        let comparison = BaselineComparison(current: current, baseline: baseline, tolerances: self.tolerances.resolved)
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
        } else {
            print(comparison.table(), terminator: "")
        }
        if !comparison.passed { throw ExitCode(ExitCodes.thresholdsFailed) }
    }
}
