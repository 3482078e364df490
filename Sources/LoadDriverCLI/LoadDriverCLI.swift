import ArgumentParser
import Foundation
import LoadDriver

/// `loaddriver`: run load scenarios against an HTTP server, compare results.
/// Subcommands live in Commands/, one file each; add new ones to `subcommands`.
@main
struct LoadDriverCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loaddriver",
        abstract: "Open-model HTTP load driver with coordinated-omission-corrected latencies, thresholds and baselines.",
        discussion: """
            Exit codes:
              0    passed
              99   a threshold failed or --abort-on stopped the run (run); a regression (compare)
              2    usage or configuration error: nothing was run
              1    the target or the driver failed: target unreachable, result not written
              105  interrupted by SIGINT or SIGTERM: summary and JSON (stopReason "interrupted") still written
            """,
        version: RunEnvironment.loadDriverVersion,
        subcommands: [RunCommand.self, CompareCommand.self, ReportCommand.self, CapacityCommand.self, MergeCommand.self]
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

/// The CLI's exit codes (listed in `loaddriver --help`).
enum ExitCodes {
    static let passed: Int32 = 0
    /// The target or the driver failed: target unreachable, an engine error, a result that cannot be written.
    static let failure: Int32 = 1
    /// Usage or configuration error: nothing was run.
    static let usage: Int32 = 2
    static let thresholdsFailed: Int32 = 99
    /// Stopped by SIGINT or SIGTERM; what ran is summarized and written.
    static let interrupted: Int32 = 105

    /// The exit code of a driver error: configuration problems are usage errors, the rest failures.
    static func code(for error: LoadDriverError) -> Int32 {
        switch error.code {
        case .invalidScenario, .remoteTargetRefused, .invalidTarget, .fileDescriptorLimit: usage
        default: failure
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}
