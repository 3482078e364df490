import Logging
import NIOCore
import NIOHTTP1

/// Maps a request to its handler and an error to its JSON answer. Called on the connection's event loop.
struct AuthRouter: Sendable {
    let auth: AuthHandlers
    let health: HealthHandlers
    let admission: AdmissionLimiter
    let retryAfterSeconds: Int
    let logger: Logger

    /// A response now (no I/O) or later; `admitted` holds a slot of `admission` that the caller frees (``AdmissionLimiter/leave()``)
    /// when the future completes.
    enum Reply {
        case now(AuthResponse)
        case later(EventLoopFuture<AuthResponse>)
        case admitted(EventLoopFuture<AuthResponse>, AdmissionLimiter)
    }

    func respond(to request: AuthRequest, route: AuthRoute?, on eventLoop: any EventLoop) -> Reply {
        guard let route else { return .now(JSONResponses.error(.notFound)) }
        guard request.head.method == route.method else {
            return .now(JSONResponses.error(.methodNotAllowed(allow: route.method.rawValue)))
        }
        switch route {
        case .live:
            return .now(self.health.live())
        case .healthRedis:
            do { return .now(try self.health.poolMetrics()) } catch { return .now(self.response(for: error, request)) }
        case .metrics:
            return .now(self.health.prometheus())
        case .health:
            let health = self.health
            return .later(eventLoop.makeFutureWithTask { try await health.readiness() })
        case .verify:
            if self.admission.admitNow() { return .admitted(self.auth.verify(request, on: eventLoop), self.admission) }
            let auth = self.auth
            return .later(self.admission.withAdmission(on: eventLoop) { auth.verify(request, on: eventLoop) })
        case .register, .login, .refresh, .logout:
            let auth = self.auth
            return .later(
                self.admission.withAdmission(on: eventLoop) {
                    eventLoop.makeFutureWithTask {
                        switch route {
                        case .register: try await auth.register(request)
                        case .login: try await auth.login(request)
                        case .refresh: try await auth.refresh(request)
                        default: try await auth.logout(request)
                        }
                    }
                })
        }
    }

    /// The JSON error answer for an error escaping a handler (see ``AuthHTTPError/classify(_:retryAfter:)``).
    func response(for error: any Error, _ request: AuthRequest) -> AuthResponse {
        let mapped = AuthHTTPError.classify(error, retryAfter: self.retryAfterSeconds)
        switch mapped.status {
        case .serviceUnavailable:
            // Expected while Redis is down or the service is saturated: debug only, no per-request noise.
            self.logger.debug("answering 503", metadata: ["error": "\(error)", "path": "\(request.path)"])
        case .internalServerError:
            self.logger.error(
                "unexpected error",
                metadata: ["error.type": "\(String(reflecting: type(of: error)))", "path": "\(request.path)"]
            )
        default:
            break
        }
        return JSONResponses.error(mapped)
    }
}
