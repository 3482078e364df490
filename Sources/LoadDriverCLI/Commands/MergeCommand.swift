import ArgumentParser
import Foundation
import LoadDriver

/// `loaddriver merge`: one result from the results of shards that loaded the same target at the same time.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the results of shards that loaded one target at the same time into one result.",
        discussion: """
            Counts and rates add up; percentiles come from the union of the shards' full histograms (exact);
            the first shard's thresholds are evaluated again. Exit 99 when a merged threshold fails.
            Example:
              loaddriver merge shard1.json shard2.json -o merged.json
            """
    )

    @Argument(help: "Result JSON files of the shards.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "The merged result file (default: print the summary only).")
    var output: String?

    func validate() throws {
        if inputs.count < 2 { throw ValidationError("give at least two result files") }
    }

    func run() throws {
        var shards: [LoadTestResult] = []
        for path in inputs {
            do {
                shards.append(try LoadTestResult.decode(from: Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                printError("cannot read \(path) as a result: \(error)")
                throw ExitCode(ExitCodes.usage)
            }
        }
        let merged: LoadTestResult
        do { merged = try LoadTestResult.merged(shards) } catch {
            printError(error.description)
            throw ExitCode(ExitCodes.usage)
        }
        print(merged.summaryTable(), terminator: "")
        if let output {
            do {
                try merged.jsonData().write(to: URL(fileURLWithPath: output), options: .atomic)
                print("result: \(output)")
            } catch {
                printError("cannot write \(output): \(error)")
                throw ExitCode(ExitCodes.failure)
            }
        }
        if !merged.passed { throw ExitCode(ExitCodes.thresholdsFailed) }
    }
}
