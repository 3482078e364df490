import Foundation
import LoadDriver
import PerformanceSupport
import Testing

/// What a result records about where it ran, found by the tool itself.
@Suite("Run environment facts")
struct RunEnvironmentTests {
    @Test func recordsCommitVersionCPUAndKernelWithoutBeingTold() throws {
        let environment = RunEnvironment()
        #expect(environment.loaddriverVersion == RunEnvironment.loadDriverVersion)
        #if os(Linux)
        #expect(environment.cpuModel?.isEmpty == false)
        #endif
        #expect(environment.kernel?.isEmpty == false)
        // The tests run inside the package's checkout (CI clones it), so git knows the commit.
        if ProcessInfo.processInfo.environment["GIT_COMMIT"] == nil,
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../../.git").path)
        {
            let commit = try #require(environment.gitCommit)
            #expect(commit.count == 40 && commit.allSatisfy(\.isHexDigit), "\(commit)")
        }
        // A result written today decodes with the facts; one written before them decodes without.
        let encoded = try JSONEncoder().encode(environment)
        #expect(try JSONDecoder().decode(RunEnvironment.self, from: encoded) == environment)
        var old = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        for key in ["loaddriverVersion", "cpuModel", "kernel", "redisVersion"] { old[key] = nil }
        let decoded = try JSONDecoder().decode(RunEnvironment.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.cpuModel == nil && decoded.loaddriverVersion == nil)
    }

    @Test func readsTheRedisVersionFromInfoServer() {
        let server = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
        #expect(RedisInfo.version(server: server) == "7.0.15")
        #expect(RedisInfo.version(server: "# Server\r\n") == nil)
    }
}
