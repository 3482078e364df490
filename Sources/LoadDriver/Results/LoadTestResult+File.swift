import Foundation

extension LoadTestResult {
    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Decodes a result written by ``jsonData()``.
    public static func decode(from data: Data) throws -> LoadTestResult {
        try JSONDecoder().decode(LoadTestResult.self, from: data)
    }

    /// Reads a result file.
    public static func load(from url: URL) throws -> LoadTestResult {
        try Self.decode(from: Data(contentsOf: url))
    }

    /// `load_test_<scenario>_<users>users_YYYYMMDD_HHMMSS.json` (UTC time of `date`).
    public func fileName(date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd_HHmmss"
        let safeName = String(self.scenario.name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return "load_test_\(safeName)_\(self.scenario.users)users_\(f.string(from: date)).json"
    }

    /// Writes the result into `directory` (created if needed) under ``fileName(date:)``; returns the file URL.
    @discardableResult
    public func write(toDirectory directory: URL, date: Date = Date()) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(self.fileName(date: date))
        try self.jsonData().write(to: url, options: .atomic)
        return url
    }
}
