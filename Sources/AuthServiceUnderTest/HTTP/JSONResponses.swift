import NIOCore
import NIOHTTP1

/// Hand-written JSON responses: the bodies are tiny and fixed-shaped, so no encoder is constructed per request.
package enum JSONResponses {
    package static let jsonContentType = "application/json; charset=utf-8"
    /// Built once; responses copy it (copy-on-write) instead of constructing header storage per request.
    package static let jsonHeaders: HTTPHeaders = ["Content-Type": jsonContentType]

    package static func response(_ status: HTTPResponseStatus, json: String) -> AuthResponse {
        AuthResponse(status: status, headers: jsonHeaders, body: ByteBuffer(string: json))
    }

    /// `{"user":"<username>"}` straight from the bytes stored in Redis.
    package static func user(_ usernameBytes: [UInt8], status: HTTPResponseStatus = .ok) -> AuthResponse {
        var buffer = ByteBufferAllocator().buffer(capacity: usernameBytes.count + 12)
        buffer.writeStaticString("{\"user\":")
        appendJSONString(usernameBytes, to: &buffer)
        buffer.writeStaticString("}")
        return AuthResponse(status: status, headers: jsonHeaders, body: buffer)
    }

    /// `{"token":"...","expiresIn":<seconds>}`; the token is base64url and needs no escaping.
    package static func token(_ token: String, expiresIn: Int) -> AuthResponse {
        response(.ok, json: "{\"token\":\"\(token)\",\"expiresIn\":\(expiresIn)}")
    }

    /// The error body with `Retry-After` and `Allow` when the error carries them.
    package static func error(_ error: AuthHTTPError) -> AuthResponse {
        var headers = jsonHeaders
        if let retryAfter = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfter)) }
        if let allow = error.allow, !allow.isEmpty { headers.add(name: "Allow", value: allow) }
        return AuthResponse(status: error.status, headers: headers, body: errorBody(error))
    }

    /// `{"error":"<code>","message":"..."}`.
    package static func errorBody(_ error: AuthHTTPError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"error\":")
        appendJSONString(Array(error.code.utf8), to: &buffer)
        buffer.writeStaticString(",\"message\":")
        appendJSONString(Array(error.message.utf8), to: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    /// Writes a JSON string literal (quotes included), escaping `"`, `\` and control characters.
    package static func appendJSONString(_ bytes: [UInt8], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0x0F)])
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
