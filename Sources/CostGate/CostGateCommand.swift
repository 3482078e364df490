import ArgumentParser

/// `cost-gate`: what one request of each endpoint costs the server, gated against committed baselines.
@main
struct CostGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost-gate",
        abstract: "Per-request cost of every endpoint (allocations, CPU, Redis commands), gated against a baseline.",
        discussion: """
            Exit status: 0 every check passed (or a baseline was written), 99 a check failed against the baseline,
            2 usage or configuration error, 1 the probe itself failed (server or Redis did not behave).
            """,
        subcommands: [MeasureCommand.self, ServeCommand.self],
        defaultSubcommand: MeasureCommand.self)
}
