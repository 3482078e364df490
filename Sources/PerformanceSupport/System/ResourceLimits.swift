#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The open-file limit: raised to the hard limit once, then checked against what a scenario needs.
public enum ResourceLimits {
    /// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the new soft limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// Throws with a clear message when `descriptors` are more than the hard limit allows.
    public static func requireOpenFiles(_ descriptors: Int, for purpose: String) throws {
        let available = raiseOpenFileLimit()
        guard available >= descriptors else {
            throw ResourceLimitError(
                "\(purpose) needs about \(descriptors) open files but the limit is \(available) (hard limit). Raise it, e.g. `ulimit -Hn \(descriptors * 2)` as root or in /etc/security/limits.conf."
            )
        }
    }
}

/// The machine's limits are too low for what was asked.
public struct ResourceLimitError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
