import NIOHTTP1

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
///
/// A known path with another method is answered 405 with `Allow`; any other path 404. The query is ignored.
package enum AuthRoute: String, CaseIterable, Sendable {
    case register = "/auth/register"
    case login = "/auth/login"
    case verify = "/auth/verify"
    case refresh = "/auth/refresh"
    case logout = "/auth/logout"
    case live = "/health/live"
    case health = "/health"
    case healthRedis = "/health/redis"
    case metrics = "/metrics"

    /// The route of a request path (`nil`: 404).
    package init?(path: Substring) {
        self.init(rawValue: String(path))
    }

    package var path: String { self.rawValue }

    /// The one method the route answers.
    package var method: HTTPMethod {
        switch self {
        case .register, .login, .refresh, .logout: .POST
        case .verify, .live, .health, .healthRedis, .metrics: .GET
        }
    }

    /// Whether the route does Redis I/O for its caller and so waits for admission; `/health*` and `/metrics` answer
    /// under any load.
    package var isAdmitted: Bool {
        switch self {
        case .register, .login, .verify, .refresh, .logout: true
        case .live, .health, .healthRedis, .metrics: false
        }
    }

    /// Every route's path.
    package static var paths: [String] { allCases.map(\.path) }
}
