import Foundation

/// Where `loaddriver capacity --out DIR` puts things: each step's full result (the seed's file naming, so
/// `loaddriver report DIR` shows every step) and the search summary `capacity_<YYYYMMDD_HHMMSS>.json`.
public enum CapacityFiles {
    /// The driver's result file name: `load_test_<scenario>_<users>users_<YYYYMMDD_HHMMSS>.json` (UTC).
    public static func resultFileName(_ result: LoadTestResult, at date: Date = Date()) -> String {
        result.fileName(date: date)
    }

    /// `capacity_<YYYYMMDD_HHMMSS>.json` (UTC).
    public static func reportFileName(at date: Date = Date()) -> String {
        "capacity_\(stamp(date)).json"
    }

    /// Writes `value` as pretty, key-sorted JSON into `directory` (created if needed) and returns its URL.
    @discardableResult
    public static func write(_ value: some Encodable, named name: String, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = directory.appendingPathComponent(name)
        try encoder.encode(value).write(to: url, options: .atomic)
        return url
    }

    static func stamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd_HHmmss"
        return f.string(from: date)
    }
}
