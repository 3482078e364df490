#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PerformanceSupport
import Synchronization
import Testing

/// The package's executables (`auth-server`, `loaddriver`) as built by `swift build --build-tests`, found next to the
/// test bundle (same build directory and configuration), and run as real child processes.
enum BuiltExecutables {
    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) is not built: run `swift build --build-tests` first (it builds every product)" }
    }

    /// The products directory: the directory of the test binary (`.build/<triple>/debug/…xctest`).
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// Path of the built product `name`; throws ``Missing`` (a failure, never a skip) when it is not there.
    static func path(_ name: String) throws -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing(path: path) }
        return path
    }

    /// A fresh temporary directory removed by the caller.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The `auth-server` executable as a child process on a free loopback port, its stderr in a file.
final class AuthServerChild: Sendable {
    let process: ChildProcess
    let port: Int
    let standardError: URL
    /// Set once the child was reaped: after that its pid may belong to another process and is never signalled again.
    private let reaped = Mutex<Int32?>(nil)

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    private init(process: ChildProcess, port: Int, standardError: URL) {
        self.process = process
        self.port = port
        self.standardError = standardError
    }

    /// Spawns `auth-server --profile loadtest --port <free> --key-prefix <unique>` with `REDIS_URL=redisURL` in its
    /// environment (so the URL, and any password in it, is not on the command line).
    static func spawn(redisURL: String, directory: URL, extraArguments: [String] = []) throws -> AuthServerChild {
        let port = try FreePort.loopback()
        let standardError = directory.appendingPathComponent("auth-server.stderr")
        let process = try ChildProcess.spawn(
            try BuiltExecutables.path("auth-server"),
            ["--profile", "loadtest", "--port", String(port), "--key-prefix", "child-\(UInt32.random(in: 0...UInt32.max)):",
             "--log-level", "info"] + extraArguments,
            standardOutput: directory.appendingPathComponent("auth-server.stdout").path,
            standardError: standardError.path,
            environment: ["REDIS_URL": redisURL])
        return AuthServerChild(process: process, port: port, standardError: standardError)
    }

    var stderrText: String { (try? String(contentsOf: standardError, encoding: .utf8)) ?? "" }

    /// `nil` while running, else the exit status (128 + signal); reaps the child once.
    func exitStatus() -> Int32? {
        reaped.withLock { reaped in
            if reaped == nil { reaped = process.exitStatus() }
            return reaped
        }
    }

    /// Polls `GET /health` until it answers 200 (the server listens and Redis answered); throws if the process exits
    /// first or `timeout` passes.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus() {
                throw StartFailure(description: "auth-server exited with \(status) before it was ready; stderr: \(stderrText)")
            }
            if let health = try? await AuthTestHTTPClient.request(port: port, "GET", "/health", timeout: .seconds(1)),
                health.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StartFailure(description: "auth-server on port \(port) was not ready within \(timeout); stderr: \(stderrText)")
    }

    /// SIGKILL (a crash) and reap; returns the exit status (128 + 9 when the signal killed it).
    @discardableResult
    func kill() async -> Int32? {
        if let status = exitStatus() { return status }
        process.signal(SIGKILL)
        return await waitForExit(within: .seconds(5))
    }

    /// Sends `signal` unless the child was already reaped.
    func signal(_ signal: Int32) {
        if exitStatus() == nil { process.signal(signal) }
    }

    func waitForExit(within timeout: Duration) async -> Int32? {
        if let status = exitStatus() { return status }
        let status = await process.waitForExit(within: timeout)
        if let status { reaped.withLock { $0 = $0 ?? status } }
        return status
    }
}
