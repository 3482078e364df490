import AuthServiceUnderTest
import Foundation
import Logging
import NIOPosix
import PerformanceSupport
import RedisPool
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

    @Test func logsAtTraceContainNoTokenOrPassword() async throws {
        let capture = LogCapture()
        let logger = capture.logger(label: "auth-capture")
        let password = "Sup3r-Secret-Pw-7781"
        let wrongPassword = "Wr0ng-Secret-Pw-4242"
        var secrets: [String] = [password, wrongPassword]
        try await RedisServerProcess.withServer { redis in
            var configuration = AuthServerHarness.configuration(redis: redis)
            configuration.rateLimit.maxFailedAttempts = 2
            let server = try await AuthServer.start(configuration, logger: logger)
            do {
                let port = server.port
                let register = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "logged", "password": password])
                #expect(register.status == 201)
                let login = try await HTTP.json(port: port, "POST", "/auth/login", ["username": "logged", "password": password])
                let token = try #require(login.string("token"))
                secrets.append(token)
                let verify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
                #expect(verify.status == 200)
                let refresh = try await HTTP.request(port: port, "POST", "/auth/refresh", headers: [("Authorization", "Bearer " + token)])
                let newToken = try #require(refresh.string("token"))
                secrets.append(newToken)
                // Failures: the old token, a forged token, wrong passwords until locked, malformed and oversized bodies.
                let stale = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
                #expect(stale.status == 401)
                let forged = String(repeating: "Q", count: 43)
                secrets.append(forged)
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
                let logout = try await HTTP.request(port: port, "POST", "/auth/logout", headers: [("Authorization", "Bearer " + newToken)])
                #expect(logout.status == 204)
                let connection = try await SecurityTests.redisConnection(redis)
                let record = try await connection.command(["GET", configuration.keyPrefix + "user:logged"]).string ?? ""
                _ = connection.close()
                #expect(!record.isEmpty)
                if let derived = record.split(separator: "$").last { secrets.append(String(derived)) }
                try await server.shutdown()
            } catch {
                try? await server.shutdown()
                throw error
            }
        }
        let records = capture.all
        #expect(records.count >= 5, "the capture saw too little to be meaningful: \(records)")
        #expect(records.contains { $0.contains("register") || $0.contains("login") }, "no request-level logs at trace: \(records.prefix(20))")
        for secret in secrets {
            let leaks = records.filter { $0.contains(secret) || $0.contains(String(secret.prefix(16))) }
            #expect(leaks.isEmpty, "a secret (\(secret.count) chars) appears in \(leaks.count) log records, e.g. \(leaks.first ?? "")")
        }
    }

    @Test func passwordProtectedRedisWorksAndWrongPasswordIsAClearStartupError() async throws {
        let password = "r3dis-Pa55-\(UInt16.random(in: 0...UInt16.max))"
        try await RedisServerProcess.withServer(.init(password: password, allowExternal: false)) { redis in
            var configuration = AuthServerHarness.configuration(redis: redis)
            configuration.redisURL = AuthServerHarness.redisURL(redis.endpoint, password: password)
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
                ("wrong password", AuthServerHarness.redisURL(redis.endpoint, password: "wrong-\(password)-x")),
                ("no password", "redis://\(redis.endpoint.host):\(redis.endpoint.port)"),
            ] {
                var wrong = configuration
                wrong.redisURL = url
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
}
