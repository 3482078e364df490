import Hummingbird
import Logging
import NIOCore

/// Outermost middleware: turns every error into the JSON error body (404 → 405 when the path exists with another
/// method), and records per-route request counters and latency.
struct AuthServerMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AuthHTTPMetrics
    let retryAfterSeconds: Int
    let maxBodyBytes: Int
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = JSONResponses.error(self.map(error, request: request))
        }
        self.metrics.record(
            endpointPath: context.endpointPath,
            status: Int(response.status.code),
            duration: ContinuousClock.now - start
        )
        return response
    }

    private func map(_ error: any Error, request: Request) -> AuthHTTPError {
        var mapped = AuthHTTPError.classify(error, retryAfter: self.retryAfterSeconds, maxBodyBytes: self.maxBodyBytes)
        switch mapped.status {
        case .notFound:
            if let allow = AuthRoutes.allowedMethods[request.uri.path] {
                mapped = .methodNotAllowed(allow: allow)
            }
        case .serviceUnavailable:
            // Expected while Redis is down or the pool is saturated: debug only, no per-request noise.
            self.logger.debug("answering 503", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
        case .internalServerError:
            self.logger.error(
                "unexpected error",
                metadata: ["error.type": "\(String(reflecting: type(of: error)))", "path": "\(request.uri.path)"]
            )
        default:
            break
        }
        return mapped
    }
}
