import Foundation

/// The suite's knobs, read from the environment once per run.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `PERF_DURATION_SCALE` | multiplies every scenario's duration (users and rates stay) | `1` |
/// | `PERF_RESULTS_DIR` | where result JSON files are written | `results/` |
/// | `PERF_BASELINE_DIR` | reference results gated against | `Baselines/` |
/// | `PERF_UPDATE_BASELINES` | `1`: write this run's results as the new baselines instead of comparing | unset |
/// | `PERF_INJECT_REGRESSION` | test-support only: one of ``InjectedRegression`` (`cpu-work-20`, `extra-round-trip`, `lease-delay-2ms`, `pool-silently-4`, `connection-per-request`) | unset |
/// | `REDIS_URL` | use an existing Redis (see ``RedisServerProcess``) | unset |
public struct PerformanceEnvironment: Sendable {
    public var durationScale: Double
    public var resultsDirectory: URL
    public var baselineDirectory: URL
    public var updateBaselines: Bool
    public var injectedRegression: InjectedRegression?

    public init(
        durationScale: Double = 1,
        resultsDirectory: URL,
        baselineDirectory: URL,
        updateBaselines: Bool = false,
        injectedRegression: InjectedRegression? = nil
    ) {
        self.durationScale = durationScale
        self.resultsDirectory = resultsDirectory
        self.baselineDirectory = baselineDirectory
        self.updateBaselines = updateBaselines
        self.injectedRegression = injectedRegression
    }

    /// Reads the variables above; relative directories are resolved against the package root.
    public static func current(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PerformanceEnvironment {
        let root = packageRoot()
        func directory(_ key: String, default name: String) -> URL {
            guard let value = environment[key], !value.isEmpty else {
                return root.appendingPathComponent(name, isDirectory: true)
            }
            return value.hasPrefix("/")
                ? URL(fileURLWithPath: value, isDirectory: true)
                : root.appendingPathComponent(value, isDirectory: true)
        }
        var scale = 1.0
        if let text = environment["PERF_DURATION_SCALE"], !text.isEmpty {
            guard let value = Double(text), value > 0, value <= 10 else {
                throw PerformanceSetupError("PERF_DURATION_SCALE must be a number in (0, 10], got '\(text)'")
            }
            scale = value
        }
        var injected: InjectedRegression?
        if let text = environment["PERF_INJECT_REGRESSION"], !text.isEmpty {
            guard let value = InjectedRegression(rawValue: text) else {
                let known = InjectedRegression.allCases.map(\.rawValue).joined(separator: ", ")
                throw PerformanceSetupError("PERF_INJECT_REGRESSION '\(text)' is not one of: \(known)")
            }
            injected = value
        }
        return PerformanceEnvironment(
            durationScale: scale,
            resultsDirectory: directory("PERF_RESULTS_DIR", default: "results"),
            baselineDirectory: directory("PERF_BASELINE_DIR", default: "Baselines"),
            updateBaselines: environment["PERF_UPDATE_BASELINES"] == "1",
            injectedRegression: injected
        )
    }

    /// The directory holding Package.swift: found from this source file, else the working directory.
    public static func packageRoot() -> URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    }

    /// `release` or `debug`, as this test-support module was compiled.
    public static var buildConfiguration: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }
}

/// A problem with the suite's own set-up (environment, limits), not with the service.
public struct PerformanceSetupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
