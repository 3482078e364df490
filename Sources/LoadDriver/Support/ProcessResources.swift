#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-level facts: CPU time and the file-descriptor limit.
public enum ProcessResources {
    /// User and system CPU seconds of this process so far (getrusage RUSAGE_SELF).
    public static func cpuTime() -> (user: Double, system: Double) {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(truncatingIfNeeded: RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return (0, 0) }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    /// CPU time the calling thread has used so far, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`); `nil` where unavailable.
    public static func threadCPUNanos() -> UInt64? {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return nil }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// File descriptors a run with `users` users needs: about 2 per user (client socket, plus the server side
    /// when the server runs in-process) plus 256 of slack.
    public static func fileDescriptorsNeeded(users: Int) -> Int { users * 2 + 256 }

    /// Raises the RLIMIT_NOFILE soft limit to the hard limit and checks it covers `needed`.
    /// Returns the new soft limit; throws when the hard limit is too low, saying so.
    @discardableResult
    public static func raiseFileDescriptorLimit(needed: Int) throws(LoadDriverError) -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return needed }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        let soft = limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
        if soft < needed {
            throw LoadDriverError(
                .fileDescriptorLimit,
                "file descriptor limit too low: this run needs about \(needed) (2 per user + 256), but the hard limit is \(limit.rlim_max) (soft \(limit.rlim_cur)); raise it (e.g. `ulimit -n \(needed)` as root or in /etc/security/limits.conf) or use fewer users"
            )
        }
        return soft
    }
}
