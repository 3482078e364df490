import Foundation
import Testing

/// Shared checks for the resilience suites (the HTTP helpers themselves live in Tests/UnitTests/AuthService).
enum Resilience {
    /// `status` is what was expected and the body is the service's JSON error `{error, message}`.
    static func expectJSONError(
        _ response: AuthTestResponse,
        _ status: Int,
        code: String? = nil,
        _ context: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "\(context): status \(response.status) body \(response.text)", sourceLocation: sourceLocation)
        expectErrorBody(json: response.json, contentType: response.header("Content-Type"), code: code, context, sourceLocation: sourceLocation)
    }

    static func expectJSONError(
        _ response: RawHTTPClient.Result,
        _ status: Int,
        code: String? = nil,
        _ context: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "\(context): \(response)", sourceLocation: sourceLocation)
        expectErrorBody(json: response.json, contentType: response.header("Content-Type"), code: code, context, sourceLocation: sourceLocation)
    }

    private static func expectErrorBody(
        json: [String: Any]?,
        contentType: String?,
        code: String?,
        _ context: String,
        sourceLocation: SourceLocation
    ) {
        #expect(contentType?.lowercased().hasPrefix("application/json") == true, "\(context): content type \(contentType ?? "none")", sourceLocation: sourceLocation)
        let error = json?["error"] as? String
        let message = json?["message"] as? String
        #expect(error != nil && message != nil, "\(context): body is not {error, message}: \(String(describing: json))", sourceLocation: sourceLocation)
        if let code { #expect(error == code, "\(context): error code \(error ?? "nil")", sourceLocation: sourceLocation) }
    }

    /// GET /health/live answers 200.
    static func expectLive(port: Int, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let live = try await AuthTestHTTPClient.request(port: port, "GET", "/health/live", timeout: .seconds(5))
        #expect(live.status == 200, "server not live after \(context): \(live.status) \(live.text)", sourceLocation: sourceLocation)
    }

    /// Runs `body` and fails (instead of hanging) when it takes longer than `limit`.
    static func withDeadline<R: Sendable>(
        _ limit: Duration,
        _ what: String,
        _ body: @escaping @Sendable () async throws -> R
    ) async throws -> R {
        try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else { throw DeadlineExceeded(what: what, limit: limit) }
            return first
        }
    }

    struct DeadlineExceeded: Error, CustomStringConvertible {
        var what: String
        var limit: Duration
        var description: String { "\(what) did not finish within \(limit)" }
    }
}
