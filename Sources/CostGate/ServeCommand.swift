import ArgumentParser
import AuthServiceUnderTest
import Foundation
import Logging
import NIOPosix
import PerformanceSupport
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
import RedisPool
#endif

/// `cost-gate serve`: the service under measurement, in its own process so its allocations and CPU are its own.
/// The suite's server configuration (``PerformanceScenario/defaultServer``), with `PERF_INJECT_REGRESSION` applied.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the auth service for the probe (started by `cost-gate measure`).",
        shouldDisplay: false)

    @Option(name: .customLong("redis-url"), help: "redis://host:port")
    var redisURL: String
    @Option(help: "File to write the listening port to, once the server accepts connections.")
    var portFile: String

    func run() async throws {
        // Ends with the probe that started it, also when the probe dies without stopping it (then this process is
        // handed to another parent).
        let parent = getppid()
        Task.detached {
            while true {
                try? await Task.sleep(for: .milliseconds(500))
                if getppid() != parent { Glibc.exit(3) }
            }
        }
        var logger = Logger(label: "cost-gate-serve")
        logger.logLevel = .warning
        let environment = try PerformanceEnvironment.current()
        var configuration = PerformanceScenario.defaultServer
        configuration.redis = try RedisEndpoint(url: redisURL)
        let injected = environment.injectedRegression
        let clientGroup = MultiThreadedEventLoopGroup.singleton
        let server = try await AuthServer.start(
            configuration,
            redisClient: { pool in
                injected?.client(pool: pool, endpoint: pool.endpoint, eventLoopGroup: clientGroup, logger: logger) ?? pool
            },
            logger: logger)
        try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        try await ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }
}
