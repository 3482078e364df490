import AuthServiceUnderTest
import Foundation
import NIOPosix
import PerformanceSupport
import RedisPool
import Testing

@Suite("AuthServer endpoints over HTTP with real Redis", .serialized, .timeLimit(.minutes(3)))
struct AuthServerEndpointTests {
    typealias HTTP = AuthTestHTTPClient

    @Test func bootsOnEphemeralPortAndShutsDown() async throws {
        try await AuthServerHarness.withServer { server, _ in
            #expect(server.port > 0)
            let live = try await HTTP.request(port: server.port, "GET", "/health/live")
            #expect(live.status == 200)
            #expect(live.string("status") == "ok")
        }
    }

    @Test func shutdownIsPromptAndIdempotent() async throws {
        try await RedisServerProcess.withServer { redis in
            let server = try await AuthServer.start(
                AuthServerHarness.configuration(redis: redis), logger: AuthServerHarness.logger)
            let port = server.port
            #expect(try await HTTP.request(port: port, "GET", "/health").status == 200)
            let clock = ContinuousClock()
            let start = clock.now
            try await server.shutdown()
            let elapsed = clock.now - start
            #expect(elapsed < .seconds(2), "shutdown took \(elapsed)")
            try await server.shutdown()
            await #expect(throws: (any Error).self) {
                _ = try await HTTP.request(port: port, "GET", "/health/live", timeout: .seconds(2))
            }
        }
    }

    @Test func registerSuccessConflictAndValidation() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let created = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "alice", "password": "password-123"])
            #expect(created.status == 201)
            #expect(created.string("user") == "alice")

            let taken = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "alice", "password": "another-pass"])
            #expect(taken.status == 409)
            #expect(taken.string("error") == "username_taken")

            let shortName = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "al", "password": "password-123"])
            #expect(shortName.status == 400)
            #expect(shortName.string("error") == "invalid_username")

            let badChars = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "al ice", "password": "password-123"])
            #expect(badChars.status == 400)

            let shortPassword = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "bob", "password": "short"])
            #expect(shortPassword.status == 400)
            #expect(shortPassword.string("error") == "invalid_password")

            let longPassword = try await HTTP.json(
                port: port, "POST", "/auth/register", ["username": "bob", "password": String(repeating: "p", count: 257)])
            #expect(longPassword.status == 400)
        }
    }

    /// Every thread layout serves the same API: one or two workers, the pool's I/O on the workers' loops (the
    /// default) or on its own loop; 50 concurrent verifies, then a prompt graceful shutdown.
    @Test(arguments: [(1, false), (2, false), (1, true), (2, true)])
    func eventLoopKnobsServeTheSameAPI(workers: Int, dedicatedRedisEventLoop: Bool) async throws {
        try await AuthServerHarness.withServer(configure: {
            $0.workers = workers
            $0.dedicatedRedisEventLoop = dedicatedRedisEventLoop
        }) { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "knobs")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await HTTP.request(
                            port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")]
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 50 && statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(try await HTTP.request(port: port, "GET", "/health").status == 200)
            #expect(server.pool.metrics().inUse == 0)
        }
    }

    @Test func loginAndVerify() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "carol")
            #expect(token.utf8.count == 43)

            let login = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "carol", "password": "password-123"])
            #expect(login.status == 200)
            #expect(login.json?["expiresIn"] as? Int == 3600)

            let verified = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(verified.status == 200)
            #expect(verified.string("user") == "carol")
            #expect(verified.header("Content-Type")?.hasPrefix("application/json") == true)

            let wrongPassword = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "carol", "password": "wrong-password"])
            let unknownUser = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "nobody", "password": "wrong-password"])
            #expect(wrongPassword.status == 401)
            #expect(unknownUser.status == 401)
            #expect(wrongPassword.body == unknownUser.body, "one message for unknown user and wrong password")

            let missing = try await HTTP.request(port: port, "GET", "/auth/verify")
            #expect(missing.status == 401)
            #expect(missing.string("error") == "invalid_token")
            let bogus = try await HTTP.request(
                port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(String(repeating: "A", count: 43))")])
            #expect(bogus.status == 401)
            let basic = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Basic abc")])
            #expect(basic.status == 401)
        }
    }

    @Test func tokensAreStoredHashedWithTTL() async throws {
        try await AuthServerHarness.withServer { server, redis in
            let token = try await AuthServerHarness.registerAndLogin(port: server.port, "dora")
            let connection = try await RedisConnection.connect(
                to: redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: AuthServerHarness.logger)
            defer { _ = connection.close() }
            let prefix = server.configuration.keyPrefix
            let keys = try await connection.command(["KEYS", prefix + "*"])
            guard case .array(let items) = keys else { Issue.record("KEYS: \(keys)"); return }
            let names = items.compactMap(\.string)
            #expect(names.contains(prefix + "user:dora"))
            #expect(!names.contains { $0.contains(token) }, "the raw token never reaches Redis")
            let tokenKey = try #require(names.first { $0.hasPrefix(prefix + "token:") })
            #expect(tokenKey.count == (prefix + "token:").count + 64)
            let ttl = try await connection.command(["PTTL", tokenKey]).int ?? -1
            #expect(ttl > 3_500_000 && ttl <= 3_600_000)
            let record = try await connection.command(["GET", prefix + "user:dora"]).string ?? ""
            #expect(record.hasPrefix("pbkdf2-sha256$1000$"))
            #expect(!record.contains("password-123"))
        }
    }

    @Test func rateLimitingReturns429WithRetryAfter() async throws {
        try await AuthServerHarness.withServer(configure: { $0.rateLimit = .init(maxFailedAttempts: 3, window: .seconds(30)) }) {
            server, _ in
            let port = server.port
            _ = try await AuthServerHarness.registerAndLogin(port: port, "erin")
            for _ in 0..<3 {
                let failed = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "erin", "password": "bad-password"])
                #expect(failed.status == 401)
            }
            // Locked: even the right password is refused until the window expires.
            let locked = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "erin", "password": "password-123"])
            #expect(locked.status == 429)
            #expect(locked.string("error") == "too_many_attempts")
            let retryAfter = Int(locked.header("Retry-After") ?? "") ?? 0
            #expect(retryAfter >= 1 && retryAfter <= 30)
            // Unknown usernames are rate limited too.
            for _ in 0..<3 {
                _ = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "mallory", "password": "guess-1234"])
            }
            let lockedUnknown = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "mallory", "password": "guess-1234"])
            #expect(lockedUnknown.status == 429)
            // Other users are not affected.
            _ = try await AuthServerHarness.registerAndLogin(port: port, "frank")
        }
    }

    @Test func successfulLoginResetsFailureCount() async throws {
        try await AuthServerHarness.withServer(configure: { $0.rateLimit = .init(maxFailedAttempts: 2, window: .seconds(30)) }) {
            server, _ in
            let port = server.port
            _ = try await AuthServerHarness.registerAndLogin(port: port, "gina")
            for _ in 0..<2 {
                let ok = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "gina", "password": "bad-password"])
                #expect(ok.status == 401)
                let good = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "gina", "password": "password-123"])
                #expect(good.status == 200)
            }
        }
    }

    @Test func tokenExpires() async throws {
        // 1.5 s: long enough that the first verify lands inside it when the suites run in parallel on 2 busy cores
        // (400 ms was not: login → verify took longer once).
        try await AuthServerHarness.withServer(configure: { $0.tokenTTL = .milliseconds(1_500) }) { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "hank")
            let issued = ContinuousClock.now
            let fresh = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(fresh.status == 200, "verify \(ContinuousClock.now - issued) after login")
            try await Task.sleep(until: issued + .milliseconds(2_000))
            let expired = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(expired.status == 401)
        }
    }

    @Test func refreshIssuesNewTokenAndRevokesOld() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let old = try await AuthServerHarness.registerAndLogin(port: port, "ivy")
            let refreshed = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer \(old)")])
            #expect(refreshed.status == 200)
            let new = try #require(refreshed.string("token"))
            #expect(new != old)
            #expect(refreshed.json?["expiresIn"] as? Int == 3600)

            let oldVerify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(old)")])
            #expect(oldVerify.status == 401)
            let newVerify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(new)")])
            #expect(newVerify.status == 200)
            #expect(newVerify.string("user") == "ivy")

            let again = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer \(old)")])
            #expect(again.status == 401)
            let none = try await HTTP.request(port: port, "POST", "/auth/refresh")
            #expect(none.status == 401)
        }
    }

    /// A refresh whose replies never arrive (its connection closed, or no reply within the command timeout): if Redis
    /// ran the transaction, the client still gets the successor (the old token is gone, so a 503 would end the
    /// session); if it did not, a 503 and the old token keeps working.
    @Test(arguments: [true, false], [RedisConnectionError.Code.connectionClosed, .commandTimeout])
    func refreshWithLostRepliesKeepsTheSessionAlive(ranBeforeLoss: Bool, loss: RedisConnectionError.Code) async throws {
        try await AuthServerHarness.withServer(client: { redis in
            LostTransactionReplyClient(endpoint: redis.endpoint, ranBeforeLoss: ranBeforeLoss, loss: loss)
        }) { server, _ in
            let port = server.port
            let old = try await AuthServerHarness.registerAndLogin(port: port, "lost-\(ranBeforeLoss)")
            let refreshed = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer \(old)")])
            let oldVerify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(old)")])
            if ranBeforeLoss {
                #expect(refreshed.status == 200, "\(refreshed.status) \(refreshed.text)")
                let new = try #require(refreshed.string("token"))
                let newVerify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(new)")])
                #expect(newVerify.status == 200)
                #expect(oldVerify.status == 401)
            } else {
                #expect(refreshed.status == 503, "\(refreshed.status) \(refreshed.text)")
                #expect(refreshed.json?["error"] as? String == "service_unavailable")
                #expect(oldVerify.status == 200)
            }
        }
    }

    @Test func logoutRevokesToken() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "jack")
            let out = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer \(token)")])
            #expect(out.status == 204)
            #expect(out.body.isEmpty)
            let verify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(verify.status == 401)
            let twice = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer \(token)")])
            #expect(twice.status == 401)
            let none = try await HTTP.request(port: port, "POST", "/auth/logout")
            #expect(none.status == 401)
        }
    }

    @Test func badRequestsGetJSONErrorsAndServerKeepsServing() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let malformed = try await HTTP.request(
                port: port, "POST", "/auth/register", headers: [("Content-Type", "application/json")], body: Array("{\"username\":".utf8))
            #expect(malformed.status == 400)
            #expect(malformed.string("error") == "invalid_json")
            #expect(malformed.string("message") != nil)

            let wrongShape = try await HTTP.request(
                port: port, "POST", "/auth/login", headers: [("Content-Type", "application/json")], body: Array("{\"username\":1}".utf8))
            #expect(wrongShape.status == 400)
            #expect(wrongShape.string("error") == "invalid_request")

            let wrongType = try await HTTP.request(
                port: port, "POST", "/auth/register", headers: [("Content-Type", "text/plain")],
                body: Array("{\"username\":\"kate\",\"password\":\"password-123\"}".utf8))
            #expect(wrongType.status == 415)
            #expect(wrongType.string("error") == "unsupported_media_type")

            let noType = try await HTTP.request(port: port, "POST", "/auth/login", body: Array("{}".utf8))
            #expect(noType.status == 415)

            let big = Array("{\"username\":\"kate\",\"password\":\"\(String(repeating: "x", count: 17 * 1024))\"}".utf8)
            let tooLarge = try await HTTP.request(
                port: port, "POST", "/auth/register", headers: [("Content-Type", "application/json")], body: big)
            #expect(tooLarge.status == 413)
            #expect(tooLarge.string("error") == "payload_too_large")

            // Chunked upload without Content-Length over the limit: caught while collecting.
            let chunkedBig = try await HTTP.request(
                port: port, "POST", "/auth/register",
                headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Content-Length", "")],
                body: big)
            #expect(chunkedBig.status == 413 || chunkedBig.status == 400)

            let unknown = try await HTTP.request(port: port, "GET", "/nope")
            #expect(unknown.status == 404)
            #expect(unknown.string("error") == "not_found")

            let wrongMethod = try await HTTP.request(port: port, "GET", "/auth/login")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "POST")
            #expect(wrongMethod.string("error") == "method_not_allowed")

            // Still serving.
            let token = try await AuthServerHarness.registerAndLogin(port: port, "kate")
            let verify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(verify.status == 200)
        }
    }

    @Test func healthEndpoints() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let health = try await HTTP.request(port: port, "GET", "/health")
            #expect(health.status == 200)
            #expect(health.string("redis") == "ok")
            #expect(health.string("environment") == "loadtest")

            let pool = try await HTTP.request(port: port, "GET", "/health/redis")
            #expect(pool.status == 200)
            let json = try #require(pool.json)
            for field in ["utilization", "inUse", "waiters", "idle", "maximumConnections", "peakInUse"] {
                #expect(json[field] != nil, "missing \(field)")
            }
            #expect(json["maximumConnections"] as? Int == 16)
            // The pool's snapshot at top level, plus the admission limiter in front of it.
            let expected = try #require(
                try JSONSerialization.jsonObject(with: JSONEncoder().encode(server.pool.metrics())) as? [String: Any])
            #expect(Set(json.keys) == Set(expected.keys).union(["admission"]))
            let admission = try #require(json["admission"] as? [String: Any])
            #expect(admission["maximumConcurrent"] as? Int == server.configuration.maxConcurrentRequests)
            #expect(admission["rejected"] as? Int == 0)
        }
    }

    @Test func metricsAreValidPrometheusText() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            _ = try await HTTP.request(port: port, "GET", "/health/live")
            _ = try await HTTP.request(port: port, "GET", "/auth/verify")
            let metrics = try await HTTP.request(port: port, "GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = metrics.text
            let sample = try Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+]?([0-9.eE+-]+|NaN|\+Inf|-Inf)$"#)
            var samples = 0
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
                #expect(line.wholeMatch(of: sample) != nil, "not a Prometheus sample line: \(line)")
                samples += 1
            }
            #expect(samples > 10)
            #expect(text.contains(#"auth_http_requests_total{route="/health/live",status="200"} 1"#))
            #expect(text.contains(#"auth_http_requests_total{route="/auth/verify",status="401"} 1"#))
            #expect(text.contains("auth_http_request_duration_seconds_bucket"))
            #expect(text.contains("auth_redis_pool_utilization"))
        }
    }

    @Test func redisCommandsPerRequestMatchTheDocumentedCounts() async throws {
        try await AuthServerHarness.withServer { server, redis in
            let port = server.port
            func measure(_ body: () async throws -> Void) async throws -> RedisInfo {
                let before = try await RedisInfo.read(redis.endpoint)
                try await body()
                return try await RedisInfo.read(redis.endpoint).delta(since: before)
            }
            let register = try await measure {
                let r = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "lena", "password": "password-123"])
                #expect(r.status == 201)
            }
            #expect(register.serviceCommandCalls == AuthRedisCommands.register)
            var token = ""
            let login = try await measure {
                let r = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "lena", "password": "password-123"])
                token = r.string("token") ?? ""
            }
            #expect(login.serviceCommandCalls == AuthRedisCommands.login, "\(login.commandCalls)")
            let verify = try await measure {
                for _ in 0..<10 {
                    let r = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
                    #expect(r.status == 200)
                }
            }
            #expect(verify.serviceCommandCalls == 10 * AuthRedisCommands.verify)
            #expect(verify.commandCalls.filter { !RedisInfo.bookkeepingCommands.contains($0.key) } == ["get": 10])
            let refresh = try await measure {
                let r = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer \(token)")])
                token = r.string("token") ?? ""
            }
            #expect(refresh.serviceCommandCalls == AuthRedisCommands.refresh, "\(refresh.commandCalls)")
            let logout = try await measure {
                let r = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer \(token)")])
                #expect(r.status == 204)
            }
            #expect(logout.serviceCommandCalls == AuthRedisCommands.logout)
        }
    }

    @Test func injectedClientCarriesAllRedisIO() async throws {
        let clientBox = ClientBox()
        try await AuthServerHarness.withServer(client: { redis in
            let client = ConnectionPerCallRedisClient(endpoint: redis.endpoint)
            clientBox.set(client)
            return client
        }) { server, _ in
            let client = try #require(clientBox.client)
            let afterStart = await client.calls
            #expect(afterStart == 1, "start-up PING")
            let token = try await AuthServerHarness.registerAndLogin(port: server.port, "mike")
            #expect(await client.calls == afterStart + AuthRedisCommands.register + 2)  // login: MGET, SET round trips
            let verify = try await HTTP.request(port: server.port, "GET", "/auth/verify", headers: [("Authorization", "Bearer \(token)")])
            #expect(verify.status == 200)
            #expect(await client.calls == afterStart + 4)
        }
    }

    @Test func redisDownGives503ThenRecovers() async throws {
        try await AuthServerHarness.withServer(redisConfiguration: .init(allowExternal: false)) { server, redis in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "nina")
            try await redis.stop()

            let clock = ContinuousClock()
            for request in [("GET", "/auth/verify"), ("GET", "/health"), ("POST", "/auth/logout")] {
                let start = clock.now
                let response = try await HTTP.request(
                    port: port, request.0, request.1, headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(5))
                let elapsed = clock.now - start
                #expect(response.status == 503, "\(request.1): \(response.status) \(response.text)")
                #expect(response.header("Retry-After") == "1")
                #expect(response.string("error") == "service_unavailable")
                #expect(elapsed < .seconds(3), "answered within the pool's acquire/connect timeouts, took \(elapsed)")
            }
            let login = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "nina", "password": "password-123"])
            #expect(login.status == 503)
            let live = try await HTTP.request(port: port, "GET", "/health/live")
            #expect(live.status == 200, "liveness does not depend on Redis")

            try await redis.restart()
            var recovered = false
            let deadline = clock.now + .seconds(10)
            while clock.now < deadline {
                if try await HTTP.request(port: port, "GET", "/health").status == 200 {
                    recovered = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(recovered)
            // The restarted server may have lost its data; the service works again either way.
            _ = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "nina2", "password": "password-123"])
            let again = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "nina2", "password": "password-123"])
            #expect(again.status == 200)
        }
    }

    @Test func startFailsClearlyWhenRedisIsUnreachable() async throws {
        var configuration = AuthServiceConfiguration.loadTest
        configuration.port = 0
        configuration.redis = RedisEndpoint(host: "127.0.0.1", port: try FreePort.loopback())
        configuration.pool.connectTimeout = .milliseconds(300)
        configuration.pool.acquireTimeout = .milliseconds(300)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await AuthServer.start(configuration, logger: AuthServerHarness.logger)
        } throws: { error in
            (error as? AuthStartupError)?.code == .redisUnreachable
        }
        #expect(clock.now - start < .seconds(5))
    }

    @Test func startFailsClearlyOnWrongPassword() async throws {
        try await RedisServerProcess.withServer(.init(password: "s3cret", allowExternal: false)) { redis in
            var configuration = AuthServiceConfiguration.loadTest
            configuration.port = 0
            configuration.redis = AuthServerHarness.endpoint(redis.endpoint, password: "not-the-pw-Zq9")
            configuration.pool.acquireTimeout = .milliseconds(500)
            await #expect {
                _ = try await AuthServer.start(configuration, logger: AuthServerHarness.logger)
            } throws: { error in
                guard let error = error as? AuthStartupError else { return false }
                return error.code == .redisAuthenticationFailed && !error.message.contains("not-the-pw-Zq9")
            }
            // And the right password works.
            configuration.redis = AuthServerHarness.endpoint(redis.endpoint, password: "s3cret")
            let server = try await AuthServer.start(configuration, logger: AuthServerHarness.logger)
            let health = try await HTTP.request(port: server.port, "GET", "/health")
            #expect(health.status == 200)
            try await server.shutdown()
        }
    }
}

final class ClientBox: Sendable {
    private let storage = LockedClient()
    var client: ConnectionPerCallRedisClient? { storage.get() }
    func set(_ client: ConnectionPerCallRedisClient) { storage.set(client) }

    private final class LockedClient: @unchecked Sendable {
        // Guarded by `lock`.
        private var value: ConnectionPerCallRedisClient?
        private let lock = NSLock()
        func get() -> ConnectionPerCallRedisClient? { lock.withLock { value } }
        func set(_ client: ConnectionPerCallRedisClient) { lock.withLock { value = client } }
    }
}
