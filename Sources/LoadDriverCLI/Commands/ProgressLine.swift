#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LoadDriver
import Synchronization

/// The live progress of `loaddriver run` on standard error: on a terminal one line rewritten in place every 2 s, else
/// one plain line per 10 s (either period can be set).
final class ProgressLine: Sendable {
    let interval: Double
    let isTerminal: Bool
    private let shown = Mutex(false)
    /// The load time at which the next line is due (the runner may report more often, for --abort-on).
    private let nextDue: Mutex<Double>

    init(interval: Double?) {
        self.isTerminal = isatty(STDERR_FILENO) == 1
        self.interval = interval ?? (self.isTerminal ? 2 : 10)
        self.nextDue = Mutex(self.interval)
    }

    func show(_ progress: RunProgress) {
        let due = self.nextDue.withLock { next in
            guard progress.elapsedSeconds + 0.1 >= next else { return false }
            while next <= progress.elapsedSeconds + 0.1 { next += self.interval }
            return true
        }
        guard due else { return }
        self.shown.withLock { $0 = true }
        let text = self.isTerminal ? "\r\u{1B}[2K" + progress.line : progress.line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Ends the rewritten line so the summary starts on a line of its own.
    func finish() {
        guard self.isTerminal, self.shown.withLock({ $0 }) else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
