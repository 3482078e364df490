import Foundation
import LoadDriver

/// A result and the file it came from.
public struct ReportedResult: Sendable {
    public var result: LoadTestResult
    /// Path of the JSON file, when it came from one.
    public var source: String?
    public init(result: LoadTestResult, source: String? = nil) {
        self.result = result
        self.source = source
    }
}

/// What `loaddriver report` found in its arguments.
public struct ReportInputs: Sendable {
    /// Load-test results, oldest first (by `startedAt`), one per run id.
    public var results: [ReportedResult]
    /// Capacity-search summaries (`capacity_*.json`).
    public var capacity: [CapacityReport]
    /// Files that were not results, with the reason (`path: reason`): worth a warning.
    public var skipped: [String]
    /// JSON files found in a directory that are documents of another kind (a JSON object with no `schemaVersion`,
    /// e.g. the pool comparison `scripts/perf` writes beside the results): left out without a warning.
    public var ignored: [String]
    public init(results: [ReportedResult] = [], capacity: [CapacityReport] = [], skipped: [String] = [], ignored: [String] = []) {
        self.results = results
        self.capacity = capacity
        self.skipped = skipped
        self.ignored = ignored
    }
}

/// Why no report could be made.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Finds and decodes result files. A directory contributes its `*.json` files (not its subdirectories: `scripts/perf`
/// keeps duplicate attachments in `attachments/`), leaving out quietly the JSON documents of other kinds; a file
/// given by name must be a result or a capacity summary.
public enum ReportLoader {
    public static func load(_ paths: [String]) throws(ReportError) -> ReportInputs {
        var inputs = ReportInputs()
        var seenRuns = Set<String>()
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ReportError("no such file or directory: \(path)")
            }
            let files: [String]
            if isDirectory.boolValue {
                let names = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                files = names.filter { $0.hasSuffix(".json") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            } else {
                files = [path]
            }
            for file in files {
                guard let data = fm.contents(atPath: file) else {
                    inputs.skipped.append("\(file): unreadable")
                    continue
                }
                switch decode(data) {
                case .result(let result):
                    // The same run can be stored twice (result + attachment); keep it once.
                    let key = result.runId.isEmpty ? file : result.runId + "|" + result.scenario.name
                    if seenRuns.insert(key).inserted {
                        inputs.results.append(ReportedResult(result: result, source: file))
                    }
                case .capacity(let report):
                    inputs.capacity.append(report)
                case .otherDocument where isDirectory.boolValue:
                    inputs.ignored.append(file)
                case .otherDocument:
                    inputs.skipped.append("\(file): not a load-test result or capacity summary (no schemaVersion)")
                case .neither(let reason):
                    inputs.skipped.append("\(file): \(reason)")
                }
            }
        }
        inputs.results.sort { ($0.result.startedAt, $0.result.scenario.name) < ($1.result.startedAt, $1.result.scenario.name) }
        inputs.capacity.sort { $0.startedAt < $1.startedAt }
        return inputs
    }

    enum Decoded {
        case result(LoadTestResult)
        case capacity(CapacityReport)
        /// A JSON object without `schemaVersion`: a document of another kind, not a broken result.
        case otherDocument
        case neither(String)
    }

    static func decode(_ data: Data) -> Decoded {
        let decoder = JSONDecoder()
        if let capacity = try? decoder.decode(CapacityReport.self, from: data), capacity.kind == CapacityReport.kindName {
            return .capacity(capacity)
        }
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["schemaVersion"] == nil {
            return .otherDocument
        }
        do {
            let result = try decoder.decode(LoadTestResult.self, from: data)
            guard result.schemaVersion == 1 else { return .neither("unsupported schemaVersion \(result.schemaVersion)") }
            return .result(result)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return .neither("not a load-test result (missing \(path))")
        } catch let DecodingError.dataCorrupted(context) {
            return .neither("not JSON or corrupt: \(context.debugDescription)")
        } catch {
            return .neither("not a load-test result: \(error)")
        }
    }

    /// The baseline for `result` among `baselines`: same scenario name (case-insensitive), preferring the same user
    /// count, then the newest.
    public static func baseline(for result: LoadTestResult, in baselines: [ReportedResult]) -> ReportedResult? {
        let name = result.scenario.name.lowercased()
        let candidates = baselines.filter { $0.result.scenario.name.lowercased() == name }
        return candidates.max { a, b in
            let aSame = a.result.scenario.users == result.scenario.users
            let bSame = b.result.scenario.users == result.scenario.users
            if aSame != bSame { return !aSame }
            return a.result.startedAt < b.result.startedAt
        }
    }
}
