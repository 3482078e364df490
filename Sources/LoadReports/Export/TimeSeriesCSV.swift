import Foundation
import LoadDriver

/// A result's per-second series as CSV (RFC 4180, one header row, one row per second), for spreadsheets and CI
/// dashboards. Pool fields become `pool.<field>` columns (the union over the seconds, sorted); an absent value is an
/// empty cell.
public enum TimeSeriesCSV {
    static let fixedColumns = [
        "second", "warmUp", "requests", "errors", "achievedRate", "targetRate", "p50Ms", "p95Ms", "p99Ms", "cpuPercent",
        "machineBusyPercent", "machineStealPercent",
    ]

    public static func text(for result: LoadTestResult) -> String {
        let poolFields = Set(result.timeSeries.flatMap { $0.pool?.keys.map { $0 } ?? [] }).sorted()
        var lines = [(fixedColumns + poolFields.map { "pool.\($0)" }).map(cell).joined(separator: ",")]
        for point in result.timeSeries {
            var row: [String] = [
                String(point.second), point.warmUp ? "true" : "false", String(point.requests), String(point.errors),
                number(point.achievedRate), number(point.targetRate), number(point.p50Ms), number(point.p95Ms),
                number(point.p99Ms), number(point.cpuPercent), number(point.machine?.busyPercent),
                number(point.machine?.stealPercent),
            ]
            row += poolFields.map { number(point.pool?[$0]) }
            lines.append(row.map(cell).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `<result file stem>.csv`, like ``HgrmExport/fileName(for:)``.
    public static func fileName(for reported: ReportedResult) -> String {
        let hgrm = HgrmExport.fileName(for: reported)
        return String(hgrm.dropLast(".hgrm".count)) + ".csv"
    }

    private static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.6g", value)
    }

    private static func cell(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
