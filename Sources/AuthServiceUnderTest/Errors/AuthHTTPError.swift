import NIOHTTP1

/// An error answered to the client as `{"error": "<code>", "message": "..."}` with ``status``.
/// Messages never contain tokens, passwords or internals.
public struct AuthHTTPError: Error, Sendable, Hashable {
    public var status: HTTPResponseStatus
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    public var code: String
    /// Human-readable explanation.
    public var message: String
    /// Seconds for a `Retry-After` header (429, 503).
    public var retryAfterSeconds: Int?
    /// Extra headers, e.g. `Allow` for 405.
    public var allow: String?

    public init(
        _ status: HTTPResponseStatus,
        code: String,
        message: String,
        retryAfterSeconds: Int? = nil,
        allow: String? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.allow = allow
    }
}

extension AuthHTTPError {
    static let invalidJSON = AuthHTTPError(.badRequest, code: "invalid_json", message: "The request body is not valid JSON.")
    static func invalidRequest(_ message: String) -> AuthHTTPError {
        AuthHTTPError(.badRequest, code: "invalid_request", message: message)
    }
    static let invalidUsername = AuthHTTPError(
        .badRequest,
        code: "invalid_username",
        message: "username must be 3-64 characters of A-Z, a-z, 0-9, '_', '.', '-'."
    )
    static let invalidPassword = AuthHTTPError(
        .badRequest,
        code: "invalid_password",
        message: "password must be 8-256 bytes."
    )
    static let invalidCredentials = AuthHTTPError(
        .unauthorized,
        code: "invalid_credentials",
        message: "Invalid username or password."
    )
    static let invalidToken = AuthHTTPError(
        .unauthorized,
        code: "invalid_token",
        message: "Missing, malformed, expired or revoked bearer token."
    )
    /// The HTTP/1.1 parser rejected the request (bad request line, header syntax, conflicting framing headers).
    static let malformedRequest = AuthHTTPError(
        .badRequest,
        code: "malformed_request",
        message: "The request is not valid HTTP/1.1."
    )
    /// The request head exceeds the HTTP/1.1 decoder's limits (header count or size).
    static let headerFieldsTooLarge = AuthHTTPError(
        .requestHeaderFieldsTooLarge,
        code: "header_fields_too_large",
        message: "The request headers exceed the server's limits."
    )
    static let notFound = AuthHTTPError(.notFound, code: "not_found", message: "No such route.")
    static func methodNotAllowed(allow: String) -> AuthHTTPError {
        AuthHTTPError(.methodNotAllowed, code: "method_not_allowed", message: "Method not allowed; use \(allow).", allow: allow)
    }
    static let usernameTaken = AuthHTTPError(.conflict, code: "username_taken", message: "That username is taken.")
    static func payloadTooLarge(limit: Int) -> AuthHTTPError {
        AuthHTTPError(.payloadTooLarge, code: "payload_too_large", message: "The request body exceeds \(limit) bytes.")
    }
    static let unsupportedMediaType = AuthHTTPError(
        .unsupportedMediaType,
        code: "unsupported_media_type",
        message: "Content-Type must be application/json."
    )
    static func tooManyAttempts(retryAfter: Int) -> AuthHTTPError {
        AuthHTTPError(
            .tooManyRequests,
            code: "too_many_attempts",
            message: "Too many failed login attempts; retry later.",
            retryAfterSeconds: retryAfter
        )
    }
    static let internalError = AuthHTTPError(
        .internalServerError,
        code: "internal_error",
        message: "An unexpected error occurred."
    )
    static func unavailable(retryAfter: Int) -> AuthHTTPError {
        AuthHTTPError(
            .serviceUnavailable,
            code: "service_unavailable",
            message: "The session store is unavailable; retry shortly.",
            retryAfterSeconds: retryAfter
        )
    }
}
