import ArgumentParser
import Foundation

/// `loaddriver`: run load scenarios against an HTTP server, compare results.
/// Subcommands live in Commands/, one file each; add new ones to `subcommands`.
@main
struct LoadDriverCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loaddriver",
        abstract: "Open-model HTTP load driver with coordinated-omission-corrected latencies, thresholds and baselines.",
        discussion: """
            Exit codes: 0 passed, 99 thresholds failed or regression, 2 usage or target errors.
            """,
        subcommands: [RunCommand.self, CompareCommand.self, ReportCommand.self, CapacityCommand.self]
    )

    /// Runs the CLI, mapping usage errors to exit code 2 (ArgumentParser's default is 64).
    static func main() async {
        do {
            var command = try Self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Self.exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((Self.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitCodes.usage)
            }
            Self.exit(withError: error)
        }
    }
}

enum ExitCodes {
    static let passed: Int32 = 0
    static let usage: Int32 = 2
    static let thresholdsFailed: Int32 = 99
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}
