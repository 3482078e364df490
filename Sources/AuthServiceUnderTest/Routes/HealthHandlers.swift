import NIOCore
import RedisPool

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `/health/live`, `/health`, `/health/redis`, `/metrics`.
package struct HealthHandlers: Sendable {
    let redis: any AuthRedisClient
    let pool: RedisConnectionPool
    let admission: AdmissionLimiter
    let metrics: AuthHTTPMetrics
    let environment: String
    let retryAfterSeconds: Int

    /// 200 while the process serves; no Redis I/O.
    package func live() -> AuthResponse {
        AuthResponse(status: .ok, headers: JSONResponses.jsonHeaders, body: ByteBuffer(staticString: "{\"status\":\"ok\"}"))
    }

    /// 200 when `PING` through the client answers, 503 (+ Retry-After) otherwise.
    package func readiness() async throws -> AuthResponse {
        let reply = try await self.redis.command(["PING"]).throwingError()
        guard reply == .status("PONG") || reply.string == "PONG" else {
            throw AuthHTTPError.unavailable(retryAfter: self.retryAfterSeconds)
        }
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"status\":\"ok\",\"redis\":\"ok\",\"environment\":")
        JSONResponses.appendJSONString(Array(self.environment.utf8), to: &buffer)
        buffer.writeStaticString("}")
        return AuthResponse(status: .ok, headers: JSONResponses.jsonHeaders, body: buffer)
    }

    /// The pool's `PoolMetrics` snapshot (its field names at top level) and, under `admission`, the
    /// ``AdmissionMetrics``: together they say whether an overload queued before the pool or inside it.
    package func poolMetrics() throws -> AuthResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(PoolHealth(pool: self.pool.metrics(), admission: self.admission.metrics()))
        return AuthResponse(status: .ok, headers: JSONResponses.jsonHeaders, body: ByteBuffer(bytes: data))
    }

    /// Prometheus text format 0.0.4.
    package func prometheus() -> AuthResponse {
        self.metrics.updatePoolGauges(self.pool.metrics())
        return AuthResponse(
            status: .ok,
            headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
            body: ByteBuffer(bytes: self.metrics.exposition())
        )
    }
}

/// `/health/redis`: the pool's fields at top level, the admission limiter's under `admission`.
private struct PoolHealth: Encodable {
    let pool: PoolMetrics
    let admission: AdmissionMetrics

    enum Key: String, CodingKey { case admission }

    func encode(to encoder: any Encoder) throws {
        try self.pool.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(self.admission, forKey: .admission)
    }
}
