import Synchronization

/// Stops a running ``LoadRunner`` from outside (e.g. on SIGINT): the users stop sending, requests in flight get up to
/// ``drainSeconds`` to finish, and the run returns its result with `driver.stopReason` set to the reason given.
/// A stop requested before the run started its users applies as soon as it does. Safe to call from any thread.
public final class RunStopper: Sendable {
    /// Longest wait for requests in flight after ``stop(reason:)``. Default 2 s.
    public let drainSeconds: Double

    private struct State {
        var reason: String?
        var handler: (@Sendable (String) -> Void)?
    }

    private let state = Mutex(State())

    public init(drainSeconds: Double = 2) {
        self.drainSeconds = drainSeconds
    }

    /// The reason of the first ``stop(reason:)``, if any.
    public var reason: String? { self.state.withLock { $0.reason } }

    /// Asks the run to stop; only the first call counts.
    public func stop(reason: String) {
        let handler = self.state.withLock { state -> (@Sendable (String) -> Void)? in
            guard state.reason == nil else { return nil }
            state.reason = reason
            return state.handler
        }
        handler?(reason)
    }

    /// Called by the runner once its users exist: runs `handler` now when a stop came earlier.
    func install(_ handler: @escaping @Sendable (String) -> Void) {
        let pending = self.state.withLock { state -> String? in
            state.handler = handler
            return state.reason
        }
        if let pending { handler(pending) }
    }

    /// Called by the runner when the run is over.
    func uninstall() {
        self.state.withLock { $0.handler = nil }
    }
}
