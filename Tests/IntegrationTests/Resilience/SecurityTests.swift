import AuthScenarios
import AuthServiceUnderTest
import Foundation
import LoadDriver
import Logging
import NIOPosix
import PerformanceSupport
import RedisPool
import Synchronization
import Testing

/// Security properties of the running service: token uniqueness and shape, tokens and passwords never stored or
/// logged in the clear, per-user salts, the login rate limit, and Redis authentication.
@Suite("Auth service security", .serialized, .timeLimit(.minutes(3)))
struct SecurityTests {
    typealias HTTP = AuthTestHTTPClient

    static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    @Test func hundredThousandTokensAreUniqueAndWellFormed() {
        var seen = Set<String>()
        seen.reserveCapacity(100_000)
        var characterCounts = [UInt8: Int]()
        var malformed: [String] = []
        for _ in 0..<100_000 {
            let token = AuthToken.generate()
            if token.utf8.count != 43 || !token.utf8.allSatisfy(Self.alphabet.contains) { malformed.append(token) }
            if seen.count < 100_000 { seen.insert(token) }
            for byte in token.utf8 { characterCounts[byte, default: 0] += 1 }
        }
        #expect(seen.count == 100_000, "repeated tokens among 100,000: \(100_000 - seen.count)")
        #expect(malformed.isEmpty, "malformed tokens: \(malformed.prefix(5))")
        #expect(AuthToken.encodedLength == 43 && AuthToken.byteCount == 32)
        // Sanity for the CSPRNG output: every character of the alphabet is used, none grossly over-represented
        // (expected 4.3M / 64 ≈ 67k each; the last character of a 43-char token carries only 4 bits).
        #expect(characterCounts.count == 64, "only \(characterCounts.count) distinct characters")
        let expected = 100_000 * 43 / 64
        for (byte, count) in characterCounts {
            #expect(count > expected / 2 && count < expected * 2, "character \(UnicodeScalar(byte)) occurs \(count) times")
        }
    }

    static func redisConnection(_ redis: RedisServerProcess) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: redis.endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: AuthServerHarness.logger)
    }

    /// Every key under the server's prefix (SCAN, not KEYS) with its string value.
    static func dump(_ connection: RedisConnection, prefix: String) async throws -> [String: String] {
        var cursor = "0"
        var keys: [String] = []
        for _ in 0..<10_000 {
            let reply = try await connection.command(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"])
            guard case .array(let parts) = reply, parts.count == 2, case .array(let batch) = parts[1] else {
                throw AuthServerHarness.HarnessError("SCAN: \(reply)")
            }
            keys += batch.compactMap(\.string)
            cursor = parts[0].string ?? "0"
            if cursor == "0" { break }
        }
        var values: [String: String] = [:]
        for key in keys { values[key] = try await connection.command(["GET", key]).string ?? "" }
        return values
    }

    /// `printf %s token | sha256sum` — an implementation independent of the service's.
    static func sha256Hex(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    @Test func redisStoresOnlyTokenHashesAndSaltedPasswordRecords() async throws {
        try await AuthServerHarness.withServer { server, redis in
            let port = server.port
            let password = "Same-Pa55word!"
            let first = try await AuthServerHarness.registerAndLogin(port: port, "alice", password)
            let second = try await AuthServerHarness.registerAndLogin(port: port, "bob", password)
            let refreshed = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer " + second)])
            let third = try #require(refreshed.string("token"), "refresh: \(refreshed.status) \(refreshed.text)")
            let connection = try await Self.redisConnection(redis)
            defer { _ = connection.close() }
            let prefix = server.configuration.keyPrefix
            let stored = try await Self.dump(connection, prefix: prefix)
            let everything = stored.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
            for token in [first, second, third] {
                #expect(!everything.contains(token), "a raw token is in Redis")
                #expect(!everything.contains(String(token.prefix(20))), "a token fragment is in Redis")
            }
            #expect(!everything.contains(password), "the raw password is in Redis")
            // The live tokens are keys exactly as prefix + "token:" + sha256(token) hex; the refreshed-away one is gone.
            for token in [first, third] {
                let digest = try Self.sha256Hex(token)
                #expect(digest.count == 64)
                #expect(digest == AuthToken.digestHex(token[...]))
                #expect(stored[prefix + "token:" + digest] != nil, "no key for sha256(token)")
            }
            #expect(stored[prefix + "token:" + (try Self.sha256Hex(second))] == nil, "the refreshed token's key survived")
            let tokenKeys = stored.keys.filter { $0.hasPrefix(prefix + "token:") }
            #expect(tokenKeys.count == 2, "token keys: \(tokenKeys)")
            // Per-user salts: same password, different records, different salts.
            let alice = try #require(stored[prefix + "user:alice"])
            let bob = try #require(stored[prefix + "user:bob"])
            #expect(alice != bob, "two users with the same password have the same stored hash")
            let aliceParts = alice.split(separator: "$")
            let bobParts = bob.split(separator: "$")
            #expect(aliceParts.count == 4 && bobParts.count == 4, "records: \(alice) \(bob)")
            if aliceParts.count == 4 && bobParts.count == 4 {
                #expect(aliceParts[0] == "pbkdf2-sha256")
                #expect(aliceParts[2] != bobParts[2], "same salt for two users")
                #expect(aliceParts[3] != bobParts[3], "same derived key for two users")
            }
            // Both still log in with the shared password (the salts are the right ones).
            for name in ["alice", "bob"] {
                let login = try await HTTP.json(port: port, "POST", "/auth/login", ["username": name, "password": password])
                #expect(login.status == 200, "\(name): \(login.status)")
            }
        }
    }

    @Test func loginRateLimitGives429WithRetryAfter() async throws {
        try await AuthServerHarness.withServer(configure: { configuration in
            configuration.rateLimit = .init(maxFailedAttempts: 3, window: .seconds(60))
        }) { server, _ in
            let port = server.port
            _ = try await AuthServerHarness.registerAndLogin(port: port, "victim", "right-password")
            _ = try await AuthServerHarness.registerAndLogin(port: port, "bystander", "right-password")
            for attempt in 1...3 {
                let wrong = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "victim", "password": "wrong-password-\(attempt)"])
                Resilience.expectJSONError(wrong, 401, code: "invalid_credentials", "failed attempt \(attempt)")
            }
            for (label, password) in [("wrong", "wrong-password-4"), ("right", "right-password")] {
                let locked = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "victim", "password": password])
                Resilience.expectJSONError(locked, 429, code: "too_many_attempts", "locked, \(label) password")
                let retryAfter = locked.header("Retry-After").flatMap { Int($0) }
                #expect(retryAfter.map { (1...60).contains($0) } == true, "Retry-After: \(locked.header("Retry-After") ?? "missing")")
            }
            // Unknown users are limited too (no user enumeration through the limiter), and others are unaffected.
            for _ in 1...4 {
                _ = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "ghost-user", "password": "whatever-pw"])
            }
            let ghost = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "ghost-user", "password": "whatever-pw"])
            #expect(ghost.status == 429, "unknown user after 5 failures: \(ghost.status)")
            let other = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "bystander", "password": "right-password"])
            #expect(other.status == 200, "another user is locked out too: \(other.status)")
            // Concurrent wrong guesses cannot exceed the limit by much: after a burst, the account is locked.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await HTTP.json(port: port, "POST", "/auth/login", ["username": "bystander", "password": "burst-wrong-\(index)"]).status
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "burst statuses: \(statuses)")
                #expect(statuses.filter { $0 == 429 }.count >= 1, "a burst of 20 wrong guesses never hit the limit: \(statuses)")
            }
            let afterBurst = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "bystander", "password": "right-password"])
            #expect(afterBurst.status == 429, "correct password right after a burst: \(afterBurst.status)")
        }
    }

    /// Every run of exactly 43 characters of the token alphabet (base64url, unpadded: `AuthToken.encodedLength`)
    /// that is not part of a longer run — the shape of a token, whoever issued it.
    static func tokenShapedRuns(in text: String) -> [Substring] {
        text.split { !alphabet.contains($0.asciiValue ?? 0) || !$0.isASCII }.filter { $0.utf8.count == AuthToken.encodedLength }
    }

    /// Records (message and metadata) that contain a token-shaped run or one of `secrets` (or its first 16
    /// characters).
    static func leaks(in records: [String], secrets: [String]) -> [String] {
        records.filter { record in
            !tokenShapedRuns(in: record).isEmpty || secrets.contains { record.contains($0) || record.contains($0.prefix(16)) }
        }
    }

    /// The scan of the log test can fail: a token planted in a message or in metadata, or a password, is found;
    /// digests, request ids and usernames are not mistaken for tokens.
    @Test func logScanDetectsPlantedTokensAndPasswords() {
        let capture = LogCapture()
        let logger = capture.logger(label: "plant")
        let token = AuthToken.generate()
        logger.trace("harmless", metadata: ["digest": "\(AuthToken.digestHex(token[...]))", "user": "lt-abc123-42", "id": "0123456789abcdef0123456789abcdef"])
        #expect(Self.leaks(in: capture.all, secrets: ["Pw-abc123-42!"]).isEmpty, "false positive: \(capture.all)")
        logger.debug("issued \(token)")
        logger.info("verify", metadata: ["authorization": "Bearer \(AuthToken.generate())"])
        logger.info("login", metadata: ["body": "{\"password\":\"Pw-abc123-42!\"}"])
        let records = capture.all
        #expect(Self.tokenShapedRuns(in: records[1]) == [token[...]], "token in a message: \(records[1])")
        #expect(Self.leaks(in: [records[2]], secrets: []).count == 1, "token in metadata: \(records[2])")
        #expect(Self.leaks(in: [records[3]], secrets: ["Pw-abc123-42!"]).count == 1, "password in metadata: \(records[3])")
        #expect(Self.leaks(in: records, secrets: ["Pw-abc123-42!"]).count == 3)
    }

    /// A real load scenario against a server logging at trace into a capture: 100 users of the LoadDriver with the
    /// auth mix (login, verify, refresh, logout) for 3,000 requests (plus 200 of setup), while a scripted client logs
    /// in and refreshes with known tokens and sends failures (wrong passwords until locked, stale and forged tokens,
    /// malformed bodies carrying the password). No seeded user's password, no issued token, no stored derived key
    /// and nothing token-shaped appears in any log message or metadata.
    @Test func logsAtTraceContainNoTokenOrPasswordAfterALoadScenario() async throws {
        let capture = LogCapture()
        let logger = capture.logger(label: "auth-capture")
        let password = "Sup3r-Secret-Pw-7781"
        let wrongPassword = "Wr0ng-Secret-Pw-4242"
        let scripted = ScriptedSecrets()
        let result = try await RedisServerProcess.withServer { redis in
            var configuration = AuthServerHarness.configuration(redis: redis)
            configuration.rateLimit.maxFailedAttempts = 2
            configuration.pool.acquireTimeout = .seconds(2)
            let server = try await AuthServer.start(configuration, logger: logger)
            do {
                let port = server.port
                // Closed loop bounded by a request count, so a busy machine makes the run longer, not smaller.
                var scenario = Scenario.authService(name: "log-capture", users: 100)
                scenario.load = .closedLoop(thinkTimeSeconds: 0.02)
                scenario.durationSeconds = nil
                scenario.maxRequests = 3_000
                scenario.maxWallClockSeconds = 90
                scenario.warmUpSeconds = 0
                scenario.rampUpSeconds = 0.5
                scenario.mix = [
                    WeightedRequest(weight: 70, request: Self.tolerant(.authVerify, [200, 401])),
                    WeightedRequest(weight: 10, request: .authLogin),
                    // After a logout the user's verify/refresh/logout get 401 until its next login: expected for verify
                    // and logout; refresh keeps expecting 200 (its token capture needs one), so those count as errors.
                    WeightedRequest(weight: 10, request: .authRefresh),
                    WeightedRequest(weight: 10, request: RequestTemplate(
                        name: "logout", method: "POST", path: "/auth/logout", headers: ["Authorization": "Bearer {{token}}"],
                        expectedStatus: [204, 401])),
                ]
                var driverConfiguration = try LoadRunner.Configuration(url: "http://127.0.0.1:\(port)", logger: DriverFaultTests.quietLogger)
                driverConfiguration.calibrationSeconds = 0
                let runner = LoadRunner(driverConfiguration)
                let plannedScenario = scenario
                async let load = runner.run(plannedScenario)
                try await Self.scriptedSession(port: port, password: password, wrongPassword: wrongPassword, into: scripted)
                let result = try await load
                let connection = try await SecurityTests.redisConnection(redis)
                let record = try await connection.command(["GET", configuration.keyPrefix + "user:logged"]).string ?? ""
                _ = connection.close()
                #expect(!record.isEmpty)
                if let derived = record.split(separator: "$").last { scripted.add(String(derived)) }
                try await server.shutdown()
                return result
            } catch {
                try? await server.shutdown()
                throw error
            }
        }
        print("log capture: \(result.summary.requests) requests (\(result.endpoints.mapValues(\.requests))), errors \(result.errors.counts), "
            + "\(capture.all.count) log records, \(scripted.tokens.count) scripted tokens")
        // The load really ran: a few thousand requests over every endpoint of the mix, served without 5xx.
        #expect(result.summary.requests >= 3_000, "only \(result.summary.requests) requests")
        for endpoint in ["verify", "login", "refresh", "logout"] {
            #expect((result.endpoints[endpoint]?.succeeded ?? 0) > 0, "no successful \(endpoint): \(result.endpoints.mapValues(\.succeeded))")
        }
        #expect((result.errors.counts["http5xx"] ?? 0) == 0, "5xx during the scenario: \(result.errors.counts)")
        #expect(scripted.tokens.count >= 10, "the scripted client got only \(scripted.tokens.count) tokens")

        let records = capture.all
        #expect(records.filter { $0.contains("login succeeded") }.count >= 100, "too few request-level logs at trace to be meaningful: \(records.count) records")
        #expect(records.contains { $0.contains("login failed") }, "the failures left no log")
        // Every seeded user's password (and the common prefix of them all), every known token, the derived key.
        let seeded = (0...100).map { "Pw-\(result.runId)-\($0)!" } + ["Pw-\(result.runId)-"]
        let secrets = seeded + [password, wrongPassword] + scripted.tokens + scripted.others
        let leaks = Self.leaks(in: records, secrets: secrets)
        #expect(leaks.isEmpty, "\(leaks.count) of \(records.count) log records hold a token or password, e.g. \(leaks.prefix(3))")
    }

    static func tolerant(_ template: RequestTemplate, _ statuses: [Int]) -> RequestTemplate {
        var template = template
        template.expectedStatus = statuses
        return template
    }

    /// Secrets the scripted client saw (tokens issued to it, forged tokens, the stored derived key).
    final class ScriptedSecrets: Sendable {
        private let state = Mutex<(tokens: [String], others: [String])>(([], []))
        func addToken(_ token: String) { state.withLock { $0.tokens.append(token) } }
        func add(_ secret: String) { state.withLock { $0.others.append(secret) } }
        var tokens: [String] { state.withLock { $0.tokens } }
        var others: [String] { state.withLock { $0.others } }
    }

    /// Alongside the load: 10 rounds of login → verify → refresh → stale verify → logout with known tokens, then
    /// failures that put secrets into requests (forged token, wrong passwords until locked, malformed bodies).
    static func scriptedSession(port: Int, password: String, wrongPassword: String, into secrets: ScriptedSecrets) async throws {
        let register = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "logged", "password": password])
        #expect(register.status == 201)
        for _ in 0..<10 {
            let login = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "logged", "password": password])
            let token = try #require(login.string("token"), "login: \(login.status) \(login.text)")
            secrets.addToken(token)
            let verify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
            #expect(verify.status == 200)
            let refresh = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer " + token)])
            let newToken = try #require(refresh.string("token"))
            secrets.addToken(newToken)
            let stale = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
            #expect(stale.status == 401)
            let logout = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer " + newToken)])
            #expect(logout.status == 204)
            try await Task.sleep(for: .milliseconds(100))
        }
        let forged = String(repeating: "Q", count: 43)
        secrets.add(forged)
        _ = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer " + forged)])
        for _ in 0..<3 {
            _ = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "logged", "password": wrongPassword])
        }
        _ = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "logged", "password": password])  // 409
        _ = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "bad name", "password": password])
        _ = try await HTTP.request(
            port: port, "POST", "/auth/login", headers: [("Content-Type", "application/json")],
            body: Array("{\"username\":\"logged\",\"password\":\"\(password)\"".utf8))
        _ = try await HTTP.request(
            port: port, "POST", "/auth/login", headers: [("Content-Type", "text/plain")],
            body: Array("{\"username\":\"logged\",\"password\":\"\(password)\"}".utf8))
    }

    @Test func passwordProtectedRedisWorksAndWrongPasswordIsAClearStartupError() async throws {
        let password = "r3dis-Pa55-\(UInt16.random(in: 0...UInt16.max))"
        try await RedisServerProcess.withServer(.init(password: password, allowExternal: false)) { redis in
            var configuration = AuthServerHarness.configuration(redis: redis)
            configuration.redis = AuthServerHarness.endpoint(redis.endpoint, password: password)
            let server = try await AuthServer.start(configuration, logger: AuthServerHarness.logger)
            do {
                let token = try await AuthServerHarness.registerAndLogin(port: server.port, "pwuser")
                let verify = try await HTTP.request(port: server.port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
                #expect(verify.status == 200)
                let health = try await HTTP.request(port: server.port, "GET", "/health")
                #expect(health.status == 200, "\(health.text)")
                try await server.shutdown()
            } catch {
                try? await server.shutdown()
                throw error
            }

            let clock = ContinuousClock()
            for (label, url) in [
                ("wrong password", AuthServerHarness.endpoint(redis.endpoint, password: "wrong-\(password)-x")),
                ("no password", RedisEndpoint(host: redis.endpoint.host, port: redis.endpoint.port)),
            ] {
                var wrong = configuration
                wrong.redis = url
                wrong.pool.acquireTimeout = .milliseconds(500)
                let start = clock.now
                do {
                    let unexpected = try await AuthServer.start(wrong, logger: AuthServerHarness.logger)
                    try await unexpected.shutdown()
                    Issue.record("\(label): the server started")
                } catch let error as AuthStartupError {
                    let allowed: [AuthStartupError.Code] = label == "wrong password" ? [.redisAuthenticationFailed] : [.redisAuthenticationFailed, .redisError]
                    #expect(allowed.contains(error.code), "\(label): \(error)")
                    #expect(!error.description.contains("wrong-\(password)-x") && !error.description.contains(password), "\(label): the error leaks a password: \(error)")
                    #expect(error.description.contains("\(redis.endpoint.port)"), "\(label): the error does not say which Redis: \(error)")
                } catch {
                    Issue.record("\(label): not an AuthStartupError: \(String(reflecting: error))")
                }
                #expect(clock.now - start < .seconds(5), "\(label): start-up failure took \(clock.now - start)")
            }
        }
    }

    /// The same through the `auth-server` executable, with the URL in `REDIS_URL`: a wrong (or missing) password makes
    /// the process exit non-zero by itself, quickly, with a stderr line naming the authentication failure and the
    /// Redis it tried — never the password; the right password starts it and it serves `/health` (readiness: Redis
    /// answered) and a full register/login/verify, and SIGTERM stops it cleanly.
    @Test func authServerBinaryWithRedisPassword() async throws {
        let password = "r3dis-Pa55-\(UInt16.random(in: 0...UInt16.max))"
        let directory = try BuiltExecutables.temporaryDirectory("auth-server-redis-password")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await RedisServerProcess.withServer(.init(password: password, allowExternal: false)) { redis in
            let wrongPassword = "wrong-\(password)-x"
            for (label, url, expected) in [
                ("wrong password", AuthServerHarness.endpoint(redis.endpoint, password: wrongPassword).url, ["redisAuthenticationFailed"]),
                ("no password", "redis://\(redis.endpoint.host):\(redis.endpoint.port)", ["redisAuthenticationFailed", "redisError"]),
            ] {
                let child = try AuthServerChild.spawn(redisURL: url, directory: directory, extraArguments: ["--pool-acquire-timeout-ms", "500"])
                let clock = ContinuousClock()
                let start = clock.now
                guard let status = await child.waitForExit(within: .seconds(15)) else {
                    await child.kill()
                    Issue.record("\(label): auth-server still running after 15 s; stderr: \(child.stderrText)")
                    continue
                }
                let stderr = child.stderrText
                print("auth-server with \(label) exited \(status) after \(clock.now - start); stderr: \(stderr)")
                #expect(status > 0 && status < 128, "\(label): exit status \(status) (0 = started, >= 128 = killed by a signal); stderr: \(stderr)")
                #expect(clock.now - start < .seconds(10), "\(label): took \(clock.now - start) to fail")
                let line = stderr.split(separator: "\n").first { $0.contains("start-up failed") }.map(String.init) ?? ""
                #expect(expected.contains { line.contains("(\($0))") }, "\(label): no start-up failure line naming \(expected): \(stderr)")
                #expect(label != "wrong password" || line.contains("refused the credentials"), "\(label): the line does not say the credentials were refused: \(line)")
                #expect(line.contains("\(redis.endpoint.host):\(redis.endpoint.port)"), "\(label): the line does not name the Redis: \(line)")
                #expect(!stderr.contains(password), "\(label): stderr echoes a password: \(stderr)")
                let health = try? await HTTP.request(port: child.port, "GET", "/health", timeout: .seconds(1))
                #expect(health == nil, "\(label): something still answers on the port: \(String(describing: health?.status))")
            }

            let child = try AuthServerChild.spawn(redisURL: AuthServerHarness.endpoint(redis.endpoint, password: password).url, directory: directory)
            do {
                try await child.waitUntilReady()
                let health = try await HTTP.request(port: child.port, "GET", "/health")
                #expect(health.status == 200 && health.string("status") == "ok" && health.string("redis") == "ok", "/health: \(health.status) \(health.text)")
                try await Resilience.expectServesNormally(port: child.port, "auth-server start with the Redis password")
                child.signal(SIGTERM)
                let status = await child.waitForExit(within: .seconds(15))
                #expect(status == 0, "auth-server exit status after SIGTERM: \(status.map(String.init) ?? "still running")")
                #expect(!child.stderrText.contains(password), "stderr echoes the password: \(child.stderrText)")
            } catch {
                await child.kill()
                throw error
            }
            await child.kill()
        }
    }
}
