import Logging
import NIOCore
import RedisPool

extension AuthHandlers {
    // MARK: POST /auth/login
    //
    // Success: `MGET user fail` then `SET token ... PX ttl` (2 commands, 2 round trips).
    // Failure: `MGET`, PBKDF2 anyway (unknown users too), then pipeline `INCR fail` + `EXPIRE fail window`.
    // Locked (failures >= maxFailedAttempts): `MGET` + `PTTL fail` → 429 with Retry-After, no hashing.

    package func login(_ request: AuthRequest) async throws -> AuthResponse {
        let credentials = try self.readCredentials(request)
        // Names or passwords that could never have been registered fail like a wrong password, without Redis I/O.
        guard CredentialsValidator.isValidUsername(credentials.username),
            CredentialsValidator.isValidPassword(credentials.password)
        else { throw AuthHTTPError.invalidCredentials }

        let userKey = self.keys.user(credentials.username)
        let failKey = self.keys.failures(credentials.username)
        guard case .array(let values) = try await self.redis.command(["MGET", userKey, failKey], idempotent: true).throwingError(),
            values.count == 2
        else { throw AuthHTTPError.internalError }
        let failures = values[1].int ?? 0

        if failures >= Int64(self.maxFailedAttempts) {
            let remaining = try await self.redis.command(["PTTL", failKey], idempotent: true).throwingError().int ?? -1
            let retryAfter = remaining > 0 ? Int((remaining + 999) / 1000) : self.rateLimitWindowSeconds
            self.logger.debug("login locked out", metadata: ["user": "\(credentials.username)"])
            throw AuthHTTPError.tooManyAttempts(retryAfter: max(1, retryAfter))
        }

        let hasher = self.hasher
        let password = credentials.password
        let matches: Bool
        switch values[0] {
        case .bulkString(let recordBytes):
            let record = String(decoding: recordBytes, as: UTF8.self)
            matches = try await self.hashPool.runIfActive { try hasher.verify(password: password, record: record) }
        case .null:
            // Unknown user: same PBKDF2 cost as a wrong password, same answer.
            try await self.hashPool.runIfActive { hasher.burnEquivalentWork(password: password) }
            matches = false
        default:
            throw AuthHTTPError.internalError
        }

        guard matches else {
            let replies = try await self.redis.pipeline([
                ["INCR", failKey],
                ["EXPIRE", failKey, self.rateLimitWindowArgument],
            ])
            guard replies.count == 2 else { throw AuthHTTPError.internalError }
            let count = try replies[0].throwingError().int ?? 0
            _ = try replies[1].throwingError()
            self.logger.debug("login failed", metadata: ["user": "\(credentials.username)", "failures": "\(count)"])
            if count > Int64(self.maxFailedAttempts) {
                throw AuthHTTPError.tooManyAttempts(retryAfter: self.rateLimitWindowSeconds)
            }
            throw AuthHTTPError.invalidCredentials
        }

        let token = AuthToken.generate()
        let set = ["SET", self.keys.token(token[...]), credentials.username, "PX", self.tokenTTLMillisecondsArgument]
        if failures > 0 {
            let replies = try await self.redis.pipeline([set, ["DEL", failKey]])
            guard replies.count == 2 else { throw AuthHTTPError.internalError }
            for reply in replies { _ = try reply.throwingError() }
        } else {
            _ = try await self.redis.command(set, idempotent: true).throwingError()
        }
        self.logger.debug("login succeeded", metadata: ["user": "\(credentials.username)"])
        return JSONResponses.token(token, expiresIn: self.expiresInSeconds)
    }
}
