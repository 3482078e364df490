import Foundation

/// Where and how a run happened. Callers add their own facts (hash iterations, pool size, ...) to `extra`.
public struct RunEnvironment: Codable, Sendable, Equatable {
    /// `debug` or `release` — of the LoadDriver module as compiled.
    public var buildConfiguration: String
    public var cpuCount: Int
    public var swiftVersion: String
    /// `GIT_COMMIT` environment variable, when set.
    public var gitCommit: String?
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
        gitCommit: String? = ProcessInfo.processInfo.environment["GIT_COMMIT"],
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
        self.os = os
        self.hostname = hostname
        self.target = target
        self.extra = extra
        self.loopbackRoundTripsPerSecond = loopbackRoundTripsPerSecond
    }

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
