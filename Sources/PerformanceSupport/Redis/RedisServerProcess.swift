import Foundation
import Logging
import NIOCore
import NIOPosix
import RedisPool
import Synchronization

/// A `redis-server` started for a test on a free loopback port, with no persistence, in a temporary directory.
///
/// `REDIS_URL` in the environment switches to an existing server instead (then `stop`, `kill` and `restart` throw,
/// since the process is not ours). Always stop what you start: `withServer` does it also when the body throws.
public final class RedisServerProcess: Sendable {
    /// How the server is started. Every field has a default.
    public struct Configuration: Sendable {
        /// `requirepass`, so tests can exercise `AUTH`. Default `nil` (no password).
        public var password: String?
        /// `maxclients`. Default 10,000 (more than any scenario's pool).
        public var maximumClients: Int
        /// How long to wait for the first `PONG`. Default 10 s.
        public var startTimeout: Duration
        /// Extra `redis-server` arguments, e.g. `["--maxmemory", "64mb"]`. Default none.
        public var extraArguments: [String]
        /// Honour `REDIS_URL` (use an existing server). Default `true`; fault tests that must own the process set `false`.
        public var allowExternal: Bool

        public init(
            password: String? = nil,
            maximumClients: Int = 10_000,
            startTimeout: Duration = .seconds(10),
            extraArguments: [String] = [],
            allowExternal: Bool = true
        ) {
            self.password = password
            self.maximumClients = maximumClients
            self.startTimeout = startTimeout
            self.extraArguments = extraArguments
            self.allowExternal = allowExternal
        }
    }

    /// Where clients connect (loopback, the chosen port, the password if any).
    public let endpoint: RedisEndpoint
    public var port: Int { endpoint.port }
    /// `true` when `REDIS_URL` pointed at a server this object did not start.
    public let isExternal: Bool

    private let configuration: Configuration
    private let executable: String?
    private let directory: URL?
    private let state: Mutex<ProcessState>

    private struct ProcessState {
        var process: ChildProcess?
        var exitStatus: Int32?
    }

    private init(endpoint: RedisEndpoint, configuration: Configuration, executable: String?, directory: URL?) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.executable = executable
        self.directory = directory
        self.isExternal = executable == nil
        self.state = Mutex(ProcessState())
    }

    deinit {
        // Last resort when a caller forgot to stop: never leave a server behind.
        if let process = state.withLock({ $0.process }), process.exitStatus() == nil {
            process.signal(SIGKILL)
            _ = Self.reap(process)
        }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The process id of the running server, `nil` when stopped or external.
    public var processIdentifier: Int32? {
        state.withLock { state in
            guard let process = state.process, state.exitStatus == nil else { return nil }
            if let status = process.exitStatus() {
                state.exitStatus = status
                return nil
            }
            return process.pid
        }
    }

    /// Starts a server (or attaches to `REDIS_URL`) and returns once it answers `PING`.
    public static func start(_ configuration: Configuration = .init()) async throws -> RedisServerProcess {
        if configuration.allowExternal, let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty {
            let endpoint = try RedisEndpoint(url: url)
            let server = RedisServerProcess(endpoint: endpoint, configuration: configuration, executable: nil, directory: nil)
            try await server.waitUntilReady()
            return server
        }
        guard let executable = findExecutable("redis-server") else {
            throw RedisServerProcessError(
                "redis-server was not found on PATH (or REDIS_SERVER). Run scripts/bootstrap to install it, or set REDIS_URL to use an existing server."
            )
        }
        var attempts: [String] = []
        for _ in 0..<5 {  // a port picked free can be taken before redis binds it: retry with another
            // Each attempt owns its directory: a failed attempt's `deinit` removes it, and a later attempt
            // must not find its log file's directory gone.
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("redis-test-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try FreePort.loopback()
            let endpoint = RedisEndpoint(host: "127.0.0.1", port: port, password: configuration.password)
            let server = RedisServerProcess(
                endpoint: endpoint, configuration: configuration, executable: executable, directory: directory)
            do {
                try await server.launch()
                return server
            } catch {
                attempts.append("\(error)")
                try? await server.stop()
            }
        }
        throw RedisServerProcessError(
            "could not start redis-server in \(attempts.count) attempts: \(attempts.joined(separator: "; "))")
    }

    /// Starts a server, runs `body`, and stops the server whether `body` returns or throws.
    public static func withServer<R>(
        _ configuration: Configuration = .init(),
        _ body: (RedisServerProcess) async throws -> R
    ) async throws -> R {
        let server = try await start(configuration)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// Stops with SIGTERM, then SIGKILL after `grace`. Idempotent. A no-op for an external server.
    public func stop(grace: Duration = .seconds(3)) async throws {
        guard !isExternal else { return }
        guard let process = state.withLock({ $0.process }) else { return }
        process.signal(SIGTERM)
        if !(await Self.waitForExit(process, within: grace)) {
            process.signal(SIGKILL)
            _ = await Self.waitForExit(process, within: .seconds(5))
        }
        state.withLock { $0.process = nil }
    }

    /// Kills the server with SIGKILL (a crash, for fault tests) and waits until it is gone.
    public func kill() async throws {
        try requireOwned("kill")
        guard let process = state.withLock({ $0.process }) else { return }
        process.signal(SIGKILL)
        _ = await Self.waitForExit(process, within: .seconds(5))
        state.withLock { $0.process = nil }
    }

    /// Starts the server again on the same port (after `stop` or `kill`, or stops it first if running).
    public func restart() async throws {
        try requireOwned("restart")
        try await stop()
        var lastError: (any Error)?
        for _ in 0..<20 {  // the port can linger briefly after a kill
            do {
                try await launch()
                return
            } catch {
                lastError = error
                try? await stop()
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? RedisServerProcessError("could not restart redis-server on port \(port)")
    }

    /// Starts the server again on the same port without waiting for it to answer.
    private func launch() async throws {
        guard let executable, let directory else { return }
        var arguments = [
            "--port", String(endpoint.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", directory.path,
            "--logfile", directory.appendingPathComponent("redis.log").path,
            "--maxclients", String(configuration.maximumClients),
            "--enable-debug-command", "local",
            "--tcp-backlog", "4096",
        ]
        if let password = configuration.password { arguments += ["--requirepass", password] }
        arguments += configuration.extraArguments
        // Start-up errors that come before the log file opens (a bad argument, an unwritable directory) go to stderr.
        let process = try ChildProcess.spawn(
            executable, arguments, standardError: directory.appendingPathComponent("redis.stderr").path)
        state.withLock {
            $0.process = process
            $0.exitStatus = nil
        }
        try await waitUntilReady()
    }

    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + configuration.startTimeout
        var lastError: (any Error)?
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        while ContinuousClock.now < deadline {
            if !isExternal, state.withLock({ $0.process }) != nil, processIdentifier == nil {
                let status = state.withLock { $0.exitStatus }.map { "\($0)" } ?? "?"
                throw RedisServerProcessError(
                    "redis-server exited at start (status \(status)) on port \(port); log: \(logTail())")
            }
            do {
                let connection = try await RedisConnection.connect(
                    to: endpoint, connectTimeout: .milliseconds(500), commandTimeout: .seconds(1),
                    eventLoop: eventLoop, logger: Logger(label: "redis-server-process"))
                defer { connection.close() }
                try await connection.ping()
                return
            } catch let error as RedisConnectionError where error.code == .handshakeFailed {
                throw error  // a wrong password will not fix itself
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw RedisServerProcessError(
            "redis at \(endpoint) did not answer PING within \(configuration.startTimeout): \(lastError.map { "\($0)" } ?? "no attempt")")
    }

    /// The last lines of the server's log file and of its stderr, for start-up errors.
    private func logTail() -> String {
        guard let directory else { return "(none)" }
        let tails = ["redis.log", "redis.stderr"].compactMap { name -> String? in
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                return nil
            }
            let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            return lines.isEmpty ? nil : "\(name): " + lines.suffix(3).joined(separator: " | ")
        }
        return tails.isEmpty ? "(none)" : tails.joined(separator: " || ")
    }

    private func requireOwned(_ operation: String) throws {
        if isExternal {
            throw RedisServerProcessError("cannot \(operation) an external server (REDIS_URL); unset REDIS_URL for fault tests")
        }
    }

    private static func waitForExit(_ process: ChildProcess, within timeout: Duration) async -> Bool {
        await process.waitForExit(within: timeout) != nil
    }

    /// Synchronous reap for `deinit` after SIGKILL (bounded: 2 s).
    private static func reap(_ process: ChildProcess) -> Bool {
        for _ in 0..<400 {
            if process.exitStatus() != nil { return true }
            usleep(5_000)
        }
        return false
    }

    static func findExecutable(_ name: String) -> String? {
        if let explicit = ProcessInfo.processInfo.environment["REDIS_SERVER"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Starting, stopping or reaching the test redis-server failed.
public struct RedisServerProcessError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
