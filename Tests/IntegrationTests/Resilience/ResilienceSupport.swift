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

    /// A request the server must refuse: answered with one of `statuses` and the JSON error body (`code` if given),
    /// or the connection closed without any answer — never a 2xx, never a 5xx, never a hang. A close without an answer
    /// is accepted only when `mayCloseSilently` (e.g. the server reset the connection while we were still sending).
    static func expectRefused(
        _ response: RawHTTPClient.Result,
        _ statuses: Set<Int>,
        code: String? = nil,
        mayCloseSilently: Bool = true,
        _ context: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!response.timedOut, "\(context): neither answered nor closed: \(response)", sourceLocation: sourceLocation)
        guard let status = response.status else {
            #expect(response.closedByPeer || response.sendFailed, "\(context): no answer: \(response)", sourceLocation: sourceLocation)
            #expect(mayCloseSilently, "\(context): closed without the JSON error answer: \(response)", sourceLocation: sourceLocation)
            return
        }
        #expect(statuses.contains(status), "\(context): status \(status), expected one of \(statuses.sorted()): \(response)", sourceLocation: sourceLocation)
        expectErrorBody(json: response.json, contentType: response.header("Content-Type"), code: code, context, sourceLocation: sourceLocation)
    }

    /// A full normal exchange on new connections: register a fresh user (201), log in (200 with a token), verify it
    /// (200 naming the user). Proves the server still serves correctly after whatever came before.
    static func expectServesNormally(port: Int, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let username = "normal-\(UInt32.random(in: 0...UInt32.max))"
        let register = try await AuthTestHTTPClient.json(port: port, "POST", "/auth/register", ["username": username, "password": "password-123"])
        #expect(register.status == 201, "after \(context): register \(register.status) \(register.text)", sourceLocation: sourceLocation)
        let login = try await AuthTestHTTPClient.json(port: port, "POST", "/auth/login", ["username": username, "password": "password-123"])
        let token = login.string("token")
        #expect(login.status == 200 && token != nil, "after \(context): login \(login.status) \(login.text)", sourceLocation: sourceLocation)
        let verify = try await AuthTestHTTPClient.request(
            port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + (token ?? ""))], timeout: .seconds(5))
        #expect(verify.status == 200 && verify.string("user") == username, "after \(context): verify \(verify.status) \(verify.text)", sourceLocation: sourceLocation)
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
