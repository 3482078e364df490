import Hummingbird
import Logging
import NIOPosix
import RedisPool

/// The route table.
///
/// | method | path | success |
/// |---|---|---|
/// | POST | /auth/register | 201 `{user}` |
/// | POST | /auth/login | 200 `{token, expiresIn}` |
/// | GET | /auth/verify | 200 `{user}` |
/// | POST | /auth/refresh | 200 `{token, expiresIn}` |
/// | POST | /auth/logout | 204 |
/// | GET | /health/live | 200 `{status}` (no Redis) |
/// | GET | /health | 200 `{status, redis, environment}` / 503 |
/// | GET | /health/redis | 200 pool `PoolMetrics` JSON |
/// | GET | /metrics | 200 Prometheus text |
package enum AuthRoutes {
    /// Path → allowed method(s), for 405 answers.
    package static let allowedMethods: [String: String] = [
        "/auth/register": "POST",
        "/auth/login": "POST",
        "/auth/verify": "GET",
        "/auth/refresh": "POST",
        "/auth/logout": "POST",
        "/health/live": "GET",
        "/health": "GET",
        "/health/redis": "GET",
        "/metrics": "GET",
    ]

    package static var paths: [String] { Array(allowedMethods.keys) }

    static func makeRouter(
        auth: AuthHandlers,
        admission: AdmissionLimiter,
        health: HealthHandlers,
        metrics: AuthHTTPMetrics,
        configuration: AuthServiceConfiguration,
        logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router()
        // Middleware first: Hummingbird wraps only routes added after it (and the not-found responder).
        router.add(
            middleware: AuthServerMiddleware(
                metrics: metrics,
                retryAfterSeconds: configuration.unavailableRetryAfterSeconds,
                maxBodyBytes: configuration.maxBodyBytes,
                logger: logger
            )
        )
        // The endpoints that use Redis wait for admission; /health* and /metrics answer under any load.
        router.get("/auth/verify") { request, _ in try await admission.withAdmission { try await auth.verify(request) } }
        router.post("/auth/register") { request, _ in try await admission.withAdmission { try await auth.register(request) } }
        router.post("/auth/login") { request, _ in try await admission.withAdmission { try await auth.login(request) } }
        router.post("/auth/refresh") { request, _ in try await admission.withAdmission { try await auth.refresh(request) } }
        router.post("/auth/logout") { request, _ in try await admission.withAdmission { try await auth.logout(request) } }
        router.get("/health/live") { _, _ in health.live() }
        router.get("/health") { _, _ in try await health.readiness() }
        router.get("/health/redis") { _, _ in try health.poolMetrics() }
        router.get("/metrics") { _, _ in health.prometheus() }
        return router
    }
}
