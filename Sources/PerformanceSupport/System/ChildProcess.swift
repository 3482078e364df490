#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid`, so its exit is seen at once (Foundation's
/// `Process` on Linux can report a dead child as running for seconds).
package struct ChildProcess: Sendable {
    package let pid: pid_t

    /// Starts `executable` with `arguments` in a new process group: stdin on /dev/null, stdout and stderr into the
    /// files `standardOutput` / `standardError` (created or truncated) or /dev/null, and the test process's environment
    /// with `environment` added (a value there replaces the inherited one).
    package static func spawn(
        _ executable: String,
        _ arguments: [String],
        standardOutput: String? = nil,
        standardError: String? = nil,
        environment: [String: String] = [:]
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, path) in [(Int32(1), standardOutput), (2, standardError)] {
            posix_spawn_file_actions_addopen(
                &actions, fd, path ?? "/dev/null", path == nil ? O_WRONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group, an empty signal mask and default dispositions: the child must die on SIGTERM even if
        // the test runner blocks or ignores signals.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = []
        var inherited = environ
        while let entry = inherited.pointee {
            let name = String(cString: entry).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if environment[name] == nil { envp.append(strdup(entry)) }
            inherited += 1
        }
        envp += environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw RedisServerProcessError("posix_spawn \(executable) failed: \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid)
    }

    /// `nil` while running; the exit status (or 128 + signal) once it has exited. Reaps the child.
    package func exitStatus() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { return errno == ECHILD ? -1 : nil }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    package func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Polls ``exitStatus()`` every 5 ms until the child exits (its status) or `timeout` passes (`nil`). Reaps it.
    package func waitForExit(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus() { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
