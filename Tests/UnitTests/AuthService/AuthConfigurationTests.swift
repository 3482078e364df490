import AuthServiceUnderTest
import NIOCore
import RedisPool
import Testing

@Suite("AuthService configuration and error mapping")
struct AuthConfigurationTests {
    @Test func productionDefaults() throws {
        let configuration = AuthServiceConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8002)
        #expect(configuration.workers == 1)
        #expect(!configuration.dedicatedRedisEventLoop)
        #expect(configuration.backlog == 4096)
        #expect(configuration.redis == RedisEndpoint(host: "127.0.0.1", port: 6379))
        #expect(configuration.pool.maximumConnections == 160)
        #expect(configuration.environment == "production")
        #expect(configuration.hashIterations == 600_000)
        #expect(configuration.keyPrefix == "auth:")
        #expect(configuration.maxBodyBytes == 16 * 1024)
        #expect(configuration.rateLimit.maxFailedAttempts == 5)
        try configuration.validate()
        #expect(configuration.warnings.isEmpty)
    }

    @Test func loadTestProfile() throws {
        let configuration = AuthServiceConfiguration.loadTest
        #expect(configuration.hashIterations == 1_000)
        #expect(configuration.environment == "loadtest")
        #expect(configuration.pool.maximumConnections == 160)
        try configuration.validate()
    }

    @Test func environmentOverrides() throws {
        let configuration = try AuthServiceConfiguration.fromEnvironment([
            "AUTH_HOST": "0.0.0.0", "AUTH_PORT": "0", "AUTH_WORKERS": "3", "AUTH_BACKLOG": "8192",
            "REDIS_URL": "redis://:secret@10.0.0.1:6380/2", "AUTH_ENVIRONMENT": "staging",
            "AUTH_HASH_ITERATIONS": "1234", "AUTH_HASH_THREADS": "4", "AUTH_TOKEN_TTL_SECONDS": "0.5",
            "AUTH_RATE_LIMIT_MAX_FAILED": "3", "AUTH_RATE_LIMIT_WINDOW_SECONDS": "60", "AUTH_KEY_PREFIX": "t1:",
            "AUTH_POOL_MAX_CONNECTIONS": "32", "AUTH_POOL_ACQUIRE_TIMEOUT_MS": "250", "AUTH_STARTUP_CHECK": "false",
            "AUTH_DEDICATED_REDIS_LOOP": "true", "UNRELATED": "x",
        ])
        #expect(configuration.dedicatedRedisEventLoop)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 0)
        #expect(configuration.workers == 3)
        #expect(configuration.backlog == 8192)
        #expect(configuration.redis == RedisEndpoint(host: "10.0.0.1", port: 6380, password: "secret", database: 2))
        #expect(configuration.environment == "staging")
        #expect(configuration.hashIterations == 1234)
        #expect(configuration.hashThreads == 4)
        #expect(configuration.tokenTTL == .milliseconds(500))
        #expect(configuration.rateLimit.maxFailedAttempts == 3)
        #expect(configuration.rateLimit.window == .seconds(60))
        #expect(configuration.keyPrefix == "t1:")
        #expect(configuration.pool.maximumConnections == 32)
        #expect(configuration.pool.acquireTimeout == .milliseconds(250))
        #expect(configuration.startupRedisCheck == false)
    }

    @Test func loadTestProfileFromEnvironment() throws {
        let configuration = try AuthServiceConfiguration.fromEnvironment(["AUTH_PROFILE": "loadtest"])
        #expect(configuration.hashIterations == 1_000)
    }

    @Test(arguments: [
        ["AUTH_PORT": "http"], ["AUTH_PORT": "70000"], ["AUTH_WORKERS": "0"], ["AUTH_HASH_ITERATIONS": "0"],
        ["REDIS_URL": "http://x"], ["AUTH_PROFILE": "fast"], ["AUTH_TOKEN_TTL_SECONDS": "-1"],
        ["AUTH_STARTUP_CHECK": "maybe"], ["AUTH_POOL_MAX_CONNECTIONS": "0"],
    ])
    func invalidEnvironmentIsRejected(_ environment: [String: String]) {
        #expect(throws: ConfigurationError.self) { try AuthServiceConfiguration.fromEnvironment(environment) }
    }

    @Test func smallBacklogAndWeakHashingWarn() throws {
        var configuration = AuthServiceConfiguration()
        configuration.backlog = 128
        configuration.hashIterations = 10
        try configuration.validate()
        #expect(configuration.warnings.count == 2)
    }

    @Test func errorClassification() {
        func classify(_ error: any Error) -> AuthHTTPError {
            AuthHTTPError.classify(error, retryAfter: 2)
        }
        for code in [RedisPoolError.Code.acquireTimeout, .tooManyWaiters, .redisUnavailable, .poolShutdown] {
            let mapped = classify(RedisPoolError(code: code, message: "x"))
            #expect(mapped.status == .serviceUnavailable)
            #expect(mapped.retryAfterSeconds == 2)
        }
        #expect(classify(RedisConnectionError(.connectFailed, "refused")).status == .serviceUnavailable)
        #expect(classify(RedisServerError(message: "LOADING dataset")).status == .serviceUnavailable)
        #expect(classify(RedisServerError(message: "WRONGTYPE nope")).status == .internalServerError)
        #expect(classify(AdmissionRejected(queued: 8)).status == .serviceUnavailable)
        struct Surprise: Error {}
        let internalError = classify(Surprise())
        #expect(internalError.status == .internalServerError)
        #expect(internalError.code == "internal_error")
        #expect(!internalError.message.contains("Surprise"))
    }

    /// The list is derived from what `fromEnvironment` reads; each listed variable really changes or rejects
    /// something, so the list is not padded either.
    @Test func everyListedEnvironmentVariableIsRead() throws {
        let names = AuthServiceConfiguration.environmentVariables
        #expect(names.first == "AUTH_PROFILE")
        #expect(Set(names).count == names.count)
        for required in ["REDIS_URL", "AUTH_DEDICATED_REDIS_LOOP", "AUTH_POOL_MIN_CONNECTIONS", "AUTH_POOL_AUTO_PIPELINE_LIMIT"] {
            #expect(names.contains(required))
        }
        let defaults = try AuthServiceConfiguration.fromEnvironment([:])
        for name in names {
            do {
                let configuration = try AuthServiceConfiguration.fromEnvironment([name: "not-a-value-@@"])
                #expect(String(describing: configuration) != String(describing: defaults), "\(name) changed nothing")
            } catch let error as ConfigurationError {
                #expect(error.field == name, "\(name): \(error)")
            }
        }
    }

    @Test func commandCountsAreDocumented() {
        #expect(AuthRedisCommands.verify == 1)
        #expect(AuthRedisCommands.login == 2)
        #expect(AuthRedisCommands.refresh == 5)
        #expect(AuthRedisCommands.logout == 1)
        #expect(AuthRedisCommands.register == 1)
    }
}
