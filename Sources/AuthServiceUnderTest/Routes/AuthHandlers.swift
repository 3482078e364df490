import Logging
import NIOCore
import NIOPosix
import RedisPool

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The endpoint implementations. Every Redis command goes through ``redis`` (one ``AuthRedisClient`` value).
package struct AuthHandlers: Sendable {
    let redis: any AuthRedisClient
    let keys: AuthRedisKeys
    let hasher: PasswordHasher
    /// Runs PBKDF2 off the event loops and off Swift's cooperative pool.
    let hashPool: NIOThreadPool
    let tokenTTLMillisecondsArgument: String
    let expiresInSeconds: Int
    let maxFailedAttempts: Int
    let rateLimitWindowSeconds: Int
    let rateLimitWindowArgument: String
    let maxBodyBytes: Int
    let logger: Logger

    package init(
        configuration: AuthServiceConfiguration,
        redis: any AuthRedisClient,
        hashPool: NIOThreadPool,
        logger: Logger
    ) {
        self.redis = redis
        self.keys = AuthRedisKeys(prefix: configuration.keyPrefix)
        self.hasher = PasswordHasher(iterations: configuration.hashIterations)
        self.hashPool = hashPool
        let ttlMilliseconds = Self.milliseconds(configuration.tokenTTL)
        self.tokenTTLMillisecondsArgument = String(ttlMilliseconds)
        self.expiresInSeconds = Int((ttlMilliseconds + 999) / 1000)
        self.maxFailedAttempts = configuration.rateLimit.maxFailedAttempts
        let windowSeconds = max(1, Int((Self.milliseconds(configuration.rateLimit.window) + 999) / 1000))
        self.rateLimitWindowSeconds = windowSeconds
        self.rateLimitWindowArgument = String(windowSeconds)
        self.maxBodyBytes = configuration.maxBodyBytes
        self.logger = logger
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        Int64(duration / .milliseconds(1))
    }

    // MARK: GET /auth/verify — the hot path: exactly one Redis round trip (GET).

    package func verify(_ request: AuthRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AuthResponse> {
        guard let token = AuthToken.bearerToken(fromAuthorization: request.headers.first(name: "authorization")) else {
            return eventLoop.makeFailedFuture(AuthHTTPError.invalidToken)
        }
        return self.redis.command(["GET", self.keys.token(token)], idempotent: true, on: eventLoop).flatMapThrowing { reply in
            switch reply {
            case .bulkString(let username):
                return JSONResponses.user(username)
            case .null:
                throw AuthHTTPError.invalidToken
            case .error(let message):
                throw RedisServerError(message: message)
            default:
                throw AuthHTTPError.internalError
            }
        }
    }

    // MARK: POST /auth/logout — one round trip (DEL).

    package func logout(_ request: AuthRequest) async throws -> AuthResponse {
        guard let token = AuthToken.bearerToken(fromAuthorization: request.headers.first(name: "authorization")) else {
            throw AuthHTTPError.invalidToken
        }
        let deleted = try await self.redis.command(["DEL", self.keys.token(token)]).throwingError().int ?? 0
        guard deleted > 0 else { throw AuthHTTPError.invalidToken }
        return AuthResponse(status: .noContent)
    }

    // MARK: POST /auth/refresh — GET, then MULTI / SET new / DEL old / EXEC in one pipeline.

    package func refresh(_ request: AuthRequest) async throws -> AuthResponse {
        guard let token = AuthToken.bearerToken(fromAuthorization: request.headers.first(name: "authorization")) else {
            throw AuthHTTPError.invalidToken
        }
        let oldKey = self.keys.token(token)
        let username: [UInt8]
        switch try await self.redis.command(["GET", oldKey], idempotent: true).throwingError() {
        case .bulkString(let bytes): username = bytes
        case .null: throw AuthHTTPError.invalidToken
        default: throw AuthHTTPError.internalError
        }
        let newToken = AuthToken.generate()
        let newKey = self.keys.token(newToken[...])
        let replies: [RedisReply]
        do {
            replies = try await self.redis.pipeline([
                ["MULTI"],
                ["SET", newKey, String(decoding: username, as: UTF8.self), "PX", self.tokenTTLMillisecondsArgument],
                ["DEL", oldKey],
                ["EXEC"],
            ])
        } catch let error as RedisConnectionError where error.code == .connectionClosed || error.code == .commandTimeout {
            // The replies never came back (CLIENT KILL, a reset, or no reply within the command timeout, which closes
            // the connection): the transaction may have run. MULTI/EXEC is all-or-nothing and the new key is fresh,
            // so the new key exists exactly when it ran; then the old token is gone and the client must get its
            // successor, or its session is lost. (What this cannot tell: whether a concurrent refresh or logout
            // revoked the old token just before, in which race a second successor survives; or, after a timeout,
            // a transaction Redis runs only after this check, which loses the session as before.)
            guard try await self.redis.command(["EXISTS", newKey], idempotent: true).throwingError().int == 1 else {
                throw error
            }
            return JSONResponses.token(newToken, expiresIn: self.expiresInSeconds)
        }
        guard replies.count == 4 else { throw AuthHTTPError.internalError }
        for reply in replies { _ = try reply.throwingError() }
        guard case .array(let results) = replies[3], results.count == 2 else { throw AuthHTTPError.internalError }
        _ = try results[0].throwingError()
        guard (try results[1].throwingError().int ?? 0) == 1 else {
            // A concurrent refresh or logout revoked the old token first: do not hand out a second successor.
            _ = try? await self.redis.command(["DEL", newKey])
            throw AuthHTTPError.invalidToken
        }
        return JSONResponses.token(newToken, expiresIn: self.expiresInSeconds)
    }

    // MARK: POST /auth/register — one round trip (SET NX).

    package func register(_ request: AuthRequest) async throws -> AuthResponse {
        let credentials = try self.readCredentials(request)
        guard CredentialsValidator.isValidUsername(credentials.username) else { throw AuthHTTPError.invalidUsername }
        guard CredentialsValidator.isValidPassword(credentials.password) else { throw AuthHTTPError.invalidPassword }
        let hasher = self.hasher
        let password = credentials.password
        let record = try await self.hashPool.runIfActive { try hasher.makeRecord(password: password) }
        let reply = try await self.redis.command(["SET", self.keys.user(credentials.username), record, "NX"])
        switch try reply.throwingError() {
        case .status, .bulkString:
            self.logger.debug("registered user", metadata: ["user": "\(credentials.username)"])
            return JSONResponses.user(Array(credentials.username.utf8), status: .created)
        case .null:
            throw AuthHTTPError.usernameTaken
        default:
            throw AuthHTTPError.internalError
        }
    }

    // MARK: Request bodies

    struct Credentials: Decodable, Sendable {
        var username: String
        var password: String
    }

    /// Enforces `Content-Type: application/json` (415), the body limit (413) and the JSON shape (400).
    func readCredentials(_ request: AuthRequest) throws -> Credentials {
        guard let contentType = request.headers.first(name: "content-type"), Self.isJSONMediaType(contentType) else {
            throw AuthHTTPError.unsupportedMediaType
        }
        guard !request.bodyTooLarge else { throw AuthHTTPError.payloadTooLarge(limit: self.maxBodyBytes) }
        do {
            return try JSONDecoder().decode(Credentials.self, from: Data((request.body ?? ByteBuffer()).readableBytesView))
        } catch DecodingError.dataCorrupted {
            throw AuthHTTPError.invalidJSON
        } catch is DecodingError {
            throw AuthHTTPError.invalidRequest("The body must be {\"username\": string, \"password\": string}.")
        }
    }

    /// `application/json`, optionally with parameters (`; charset=utf-8`) and spaces around it, case-insensitive.
    static func isJSONMediaType(_ value: String) -> Bool {
        let expected = "application/json".utf8
        var bytes = value.utf8[...]
        if let semicolon = bytes.firstIndex(of: UInt8(ascii: ";")) { bytes = bytes[..<semicolon] }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        return bytes.count == expected.count
            && zip(bytes, expected).allSatisfy { byte, wanted in (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) == wanted }
    }
}
