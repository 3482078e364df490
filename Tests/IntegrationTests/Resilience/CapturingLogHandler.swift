import Logging
import Synchronization

/// Collects every log record (message, metadata, source) in memory, at any level, so tests can search the text.
final class LogCapture: Sendable {
    private let records = Mutex<[String]>([])

    func append(_ record: String) { records.withLock { $0.append(record) } }
    var all: [String] { records.withLock { $0 } }

    /// A logger writing only into this capture, at `.trace`.
    func logger(label: String = "capture") -> Logger {
        Logger(label: label) { label in CapturingLogHandler(label: label, capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, capture: LogCapture) {
        self.label = label
        self.capture = capture
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        if let error = event.error { fields += " error=\(error)" }
        capture.append("\(event.level) [\(label)] \(event.source) \(event.message) \(fields)")
    }
}
