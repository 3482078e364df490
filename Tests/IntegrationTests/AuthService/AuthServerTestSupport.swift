import AuthServiceUnderTest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PerformanceSupport
import RedisPool

/// Boots a real redis-server (or `REDIS_URL`) and an ``AuthServer`` on an ephemeral port for one test.
enum AuthServerHarness {
    static let logger: Logger = {
        var logger = Logger(label: "auth-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// Test defaults: ephemeral port, cheap hashing, a key prefix unique to the test, a small pool.
    static func configuration(redis: RedisServerProcess) -> AuthServiceConfiguration {
        var configuration = AuthServiceConfiguration.loadTest
        configuration.port = 0
        configuration.redis = redis.endpoint
        configuration.keyPrefix = "authtest-\(UInt32.random(in: 0...UInt32.max)):"
        configuration.hashIterations = 1_000
        configuration.pool.maximumConnections = 16
        configuration.pool.minimumConnections = 2
        configuration.pool.acquireTimeout = .milliseconds(500)
        return configuration
    }

    /// `endpoint` with `password` instead of its own (when given).
    static func endpoint(_ endpoint: RedisEndpoint, password: String? = nil) -> RedisEndpoint {
        var endpoint = endpoint
        if let password { endpoint.password = password }
        return endpoint
    }

    static func withServer<R>(
        redisConfiguration: RedisServerProcess.Configuration = .init(),
        configure: (inout AuthServiceConfiguration) -> Void = { _ in },
        client: ((RedisServerProcess) -> any AuthRedisClient)? = nil,
        _ body: (AuthServer, RedisServerProcess) async throws -> R
    ) async throws -> R {
        try await RedisServerProcess.withServer(redisConfiguration) { redis in
            var configuration = self.configuration(redis: redis)
            configure(&configuration)
            let server = try await AuthServer.start(configuration, redis: client?(redis), logger: logger)
            do {
                let result = try await body(server, redis)
                try await server.shutdown()
                return result
            } catch {
                try? await server.shutdown()
                throw error
            }
        }
    }

    /// Registers `username` and logs in, returning the token.
    static func registerAndLogin(port: Int, _ username: String, _ password: String = "password-123") async throws -> String {
        let registered = try await AuthTestHTTPClient.json(
            port: port, "POST", "/auth/register", ["username": username, "password": password])
        guard registered.status == 201 else { throw HarnessError("register: \(registered.status) \(registered.text)") }
        let login = try await AuthTestHTTPClient.json(
            port: port, "POST", "/auth/login", ["username": username, "password": password])
        guard login.status == 200, let token = login.string("token") else {
            throw HarnessError("login: \(login.status) \(login.text)")
        }
        return token
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// An injected client that opens a new connection per call and counts calls, to prove all service I/O goes through
/// the injected client.
final class ConnectionPerCallRedisClient: AuthRedisClient {
    let endpoint: RedisEndpoint
    private let counter = Counter()

    init(endpoint: RedisEndpoint) { self.endpoint = endpoint }

    var calls: Int { get async { await counter.value } }

    private func connect() async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: endpoint, connectTimeout: .seconds(1), commandTimeout: .seconds(2),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: AuthServerHarness.logger)
    }

    func command(_ arguments: [String]) async throws -> RedisReply {
        await counter.add(1)
        let connection = try await connect()
        defer { _ = connection.close() }
        return try await connection.command(arguments)
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        await counter.add(1)
        let connection = try await connect()
        defer { _ = connection.close() }
        return try await connection.pipeline(commands)
    }

    private actor Counter {
        var value = 0
        func add(_ n: Int) { value += n }
    }
}

/// Runs every call on the real Redis (a connection per call), but the first `MULTI` pipeline (refresh's transaction)
/// fails with `loss` (its connection closed, or the command timeout) before the replies arrived: after Redis ran it
/// (`ranBeforeLoss`), or before it was sent.
final class LostTransactionReplyClient: AuthRedisClient {
    let base: ConnectionPerCallRedisClient
    let ranBeforeLoss: Bool
    let loss: RedisConnectionError.Code
    private let lost = NIOLockedValueBox(false)

    init(endpoint: RedisEndpoint, ranBeforeLoss: Bool, loss: RedisConnectionError.Code) {
        self.base = ConnectionPerCallRedisClient(endpoint: endpoint)
        self.ranBeforeLoss = ranBeforeLoss
        self.loss = loss
    }

    func command(_ arguments: [String]) async throws -> RedisReply {
        try await base.command(arguments)
    }

    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        let loseThisOne = commands.first == ["MULTI"] && lost.withLockedValue { lost in
            defer { lost = true }
            return !lost
        }
        guard loseThisOne else { return try await base.pipeline(commands) }
        if ranBeforeLoss { _ = try await base.pipeline(commands) }
        throw RedisConnectionError(loss, "no replies (injected by the test)")
    }
}
