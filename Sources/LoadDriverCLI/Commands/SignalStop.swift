#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import LoadDriver
import Synchronization

/// SIGINT and SIGTERM during a run: the first stops the run through its ``RunStopper`` (the summary and the JSON are
/// still written, exit code 105); a second exits at once with the same code, writing nothing.
final class SignalStop {
    private let sources: [any DispatchSourceSignal]

    init(stopper: RunStopper) {
        let received = Counter()
        self.sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)  // delivered to the dispatch source instead of ending the process
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if received.increment() == 1 {
                    FileHandle.standardError.write(
                        Data("\nloaddriver: stopping (\(number == SIGINT ? "SIGINT" : "SIGTERM")): waiting up to \(Int(stopper.drainSeconds)) s for requests in flight; signal again to quit at once\n".utf8))
                    stopper.stop(reason: "interrupted")
                } else {
                    FileHandle.standardError.write(Data("loaddriver: quitting at once\n".utf8))
                    _exit(ExitCodes.interrupted)
                }
            }
            source.resume()
            return source
        }
    }

    /// Restores the default signal handling.
    func cancel() {
        for source in self.sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    private final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() -> Int { self.value.withLock { $0 += 1; return $0 } }
    }
}
