#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where and how a run happened. Callers add their own facts (hash iterations, pool size, ...) to `extra`.
public struct RunEnvironment: Codable, Sendable, Equatable {
    /// `debug` or `release` — of the LoadDriver module as compiled.
    public var buildConfiguration: String
    public var cpuCount: Int
    public var swiftVersion: String
    /// `GIT_COMMIT` when set, else the commit checked out where the run started (`git rev-parse HEAD`), if any.
    public var gitCommit: String?
    /// The version of the LoadDriver that made the result (``RunEnvironment/loadDriverVersion``).
    public var loaddriverVersion: String?
    /// `model name` from `/proc/cpuinfo`, where there is one.
    public var cpuModel: String?
    /// The kernel release (`uname -r`).
    public var kernel: String?
    /// `redis_version` of the Redis under test, when the caller knows it.
    public var redisVersion: String?
    public var os: String
    public var hostname: String
    /// Target under test, `host:port`.
    public var target: String
    /// Caller-supplied facts, e.g. `hashIterations`, `poolSize`, server build configuration.
    public var extra: [String: String]
    /// This machine's loopback speed just before the load: 1-byte TCP ping-pong round trips per second through
    /// 127.0.0.1 (``LoopbackCalibration``); `nil` when not measured. Results from machines whose figures differ by
    /// more than 1.5x are not comparable, and a baseline comparison says so.
    public var loopbackRoundTripsPerSecond: Double?

    public init(
        buildConfiguration: String = RunEnvironment.compiledBuildConfiguration,
        cpuCount: Int = ProcessInfo.processInfo.activeProcessorCount,
        swiftVersion: String = RunEnvironment.compiledSwiftVersion,
        gitCommit: String? = RunEnvironment.detectedGitCommit,
        os: String = ProcessInfo.processInfo.operatingSystemVersionString,
        hostname: String = ProcessInfo.processInfo.hostName,
        target: String = "",
        extra: [String: String] = [:],
        loopbackRoundTripsPerSecond: Double? = nil
    ) {
        self.buildConfiguration = buildConfiguration
        self.cpuCount = cpuCount
        self.swiftVersion = swiftVersion
        self.gitCommit = gitCommit
        self.loaddriverVersion = RunEnvironment.loadDriverVersion
        self.cpuModel = RunEnvironment.detectedCPUModel
        self.kernel = RunEnvironment.detectedKernel
        self.os = os
        self.hostname = hostname
        self.target = target
        self.extra = extra
        self.loopbackRoundTripsPerSecond = loopbackRoundTripsPerSecond
    }

    /// This LoadDriver's version, recorded in every result.
    public static let loadDriverVersion = "0.9.0"

    /// `GIT_COMMIT`, else `git rev-parse HEAD` in the current directory (nil outside a checkout or without git).
    public static let detectedGitCommit: String? = {
        if let commit = ProcessInfo.processInfo.environment["GIT_COMMIT"], !commit.isEmpty { return commit }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.count == 40 ? commit : nil
    }()

    /// `model name` of the first CPU in `/proc/cpuinfo`.
    public static let detectedCPUModel: String? = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }()

    /// The kernel release, from `uname`.
    public static let detectedKernel: String? = {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        return withUnsafeBytes(of: &name.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }()

    public static var compiledBuildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    public static var compiledSwiftVersion: String {
        #if swift(>=6.3)
        return "6.3+"
        #elseif swift(>=6.2)
        return "6.2"
        #elseif swift(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
}
