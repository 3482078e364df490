import ArgumentParser
import Foundation
import LoadDriver
import LoadReports

/// `loaddriver report`: one self-contained HTML page (or a Markdown table) from result JSON files, with optional
/// baseline deltas and `.hgrm` exports.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render results as one self-contained HTML report (or a Markdown table).",
        discussion: """
            Reads load-test result JSON files (directories contribute their *.json files, not their subdirectories) \
            and capacity-search summaries. The HTML page needs no network and no JavaScript: per scenario a verdict \
            with every threshold, throughput, latency percentiles, pool, machine CPU and errors by kind over time, \
            the latency distribution on HdrHistogram's nines axis, status codes and error samples; a summary across \
            scenarios. With --baseline, deltas against the baseline of the same scenario name, regressions highlighted.

            Examples:
              loaddriver report results/run-20261129-044500 -o report.html
              loaddriver report results/latest --baseline Baselines --format markdown -o summary.md
              loaddriver report results/latest -o report.html --hgrm-dir results/latest/hgrm
              loaddriver report results/latest --csv-dir results/latest/csv     # the per-second series
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case html, markdown
    }

    @Argument(help: "Result directories or JSON files.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file; '-' for standard output. Default: report.html (report.md for markdown) in the single input directory, else in the current directory.")
    var output: String?

    @Option(help: "Directory (or file) of baseline results; each result is compared with the baseline of the same scenario name.")
    var baseline: String?

    @Option(help: "Output format: html or markdown.")
    var format: Format = .html

    @Option(name: .customLong("hgrm-dir"), help: "Also write each scenario's latency distribution as an HdrHistogram .hgrm file into this directory.")
    var hgrmDirectory: String?

    @Option(name: .customLong("csv-dir"), help: "Also write each result's per-second series as CSV into this directory.")
    var csvDirectory: String?

    @Option(help: "Page title.")
    var title: String?

    @OptionGroup(title: "Regression rule (with --baseline, the same as `loaddriver compare`)")
    var tolerances: ToleranceOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one results directory or JSON file") }
    }

    func run() throws {
        let inputs: ReportInputs
        let baselines: [ReportedResult]
        do {
            inputs = try ReportLoader.load(self.inputs)
            baselines = try baseline.map { try ReportLoader.load([$0]).results } ?? []
        } catch {
            ReportingOutput.error("\(error)")
            throw ExitCode(2)
        }
        for skipped in inputs.skipped { ReportingOutput.warn("skipped \(skipped)") }
        if inputs.results.isEmpty && inputs.capacity.isEmpty {
            ReportingOutput.error("no load-test results found in \(self.inputs.joined(separator: ", "))")
            throw ExitCode(2)
        }
        if baseline != nil && baselines.isEmpty {
            ReportingOutput.warn("no baseline results found in \(baseline!): reporting without deltas")
        }
        let tolerances = self.tolerances.resolved
        let text: String
        switch format {
        case .html:
            text = HTMLReport(results: inputs.results, baselines: baselines, capacity: inputs.capacity,
                              title: title ?? "Load test report", tolerances: tolerances).render()
        case .markdown:
            text = MarkdownReport(results: inputs.results, baselines: baselines, capacity: inputs.capacity,
                                  title: title ?? "Load test results", tolerances: tolerances).render()
        }
        if let hgrmDirectory {
            try writeHgrm(inputs.results, to: hgrmDirectory)
        }
        if let csvDirectory {
            try writeCSV(inputs.results, to: csvDirectory)
        }
        let destination = output ?? defaultOutput()
        if destination == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            let url = URL(fileURLWithPath: destination)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
            print(url.standardizedFileURL.path)
        } catch {
            ReportingOutput.error("cannot write \(destination): \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }

    private func defaultOutput() -> String {
        let name = format == .html ? "report.html" : "report.md"
        var isDirectory: ObjCBool = false
        if self.inputs.count == 1, FileManager.default.fileExists(atPath: self.inputs[0], isDirectory: &isDirectory), isDirectory.boolValue {
            return (self.inputs[0] as NSString).appendingPathComponent(name)
        }
        return name
    }

    private func writeCSV(_ results: [ReportedResult], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for reported in results {
                let path = (directory as NSString).appendingPathComponent(TimeSeriesCSV.fileName(for: reported))
                try Data(TimeSeriesCSV.text(for: reported.result).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                ReportingOutput.note("wrote \(path)")
            }
        } catch {
            ReportingOutput.error("cannot write .csv files to \(directory): \(error.localizedDescription)")
            throw ExitCode(ExitCodes.failure)
        }
    }

    private func writeHgrm(_ results: [ReportedResult], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for reported in results {
                guard let text = HgrmExport.text(for: reported.result) else {
                    ReportingOutput.warn("\(reported.result.scenario.name): no latency distribution, no .hgrm written")
                    continue
                }
                let path = (directory as NSString).appendingPathComponent(HgrmExport.fileName(for: reported))
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                ReportingOutput.note("wrote \(path)")
            }
        } catch {
            ReportingOutput.error("cannot write .hgrm files to \(directory): \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }
}

/// Messages to standard error (standard output carries only the result: a path, or the document with `-o -`).
enum ReportingOutput {
    static func error(_ message: String) { write("error: " + message) }
    static func warn(_ message: String) { write("warning: " + message) }
    static func note(_ message: String) { write(message) }
    private static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
