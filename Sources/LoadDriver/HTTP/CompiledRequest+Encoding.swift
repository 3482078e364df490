import NIOCore

extension CompiledRequest {
    /// Writes the whole HTTP/1.1 request (head and body) for a user with `variables`:
    /// `Host`, then the template's headers, then `Content-Type: application/json` and `Content-Length` when the
    /// template does not set them. The bytes depend only on the template and the variables, so a user encodes each
    /// request once and resends the same buffer until a capture changes its variables.
    /// Throws ``InvalidRequestError`` when a rendered path or header value would break the request framing
    /// (a variable holding CR, LF or NUL, or a space in the path).
    package func encode(variables: [String: String], host: String, into buffer: inout ByteBuffer) throws {
        let body = self.body?.render(variables)
        let path = self.path.render(variables)
        guard !path.isEmpty, !path.utf8.contains(where: { $0 == 0x20 || Self.breaksFraming($0) }) else {
            throw InvalidRequestError(message: "invalid request path after substitution: \(path.debugDescription.prefix(120))")
        }
        buffer.writeString(self.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(path)
        buffer.writeStaticString(" HTTP/1.1\r\nHost: ")
        buffer.writeString(host)
        buffer.writeStaticString("\r\n")
        for header in self.headers {
            let value = header.value.render(variables)
            guard !value.utf8.contains(where: Self.breaksFraming) else {
                throw InvalidRequestError(message: "invalid value for header \(header.name) after substitution")
            }
            buffer.writeString(header.name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if body != nil, self.addContentType {
            buffer.writeStaticString("Content-Type: application/json\r\n")
        }
        if self.addContentLength {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(body?.utf8.count ?? 0))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        if let body { buffer.writeString(body) }
    }

    @inline(__always)
    private static func breaksFraming(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A || byte == 0 }
}

/// A request template rendered into something that is not a valid HTTP/1.1 request.
package struct InvalidRequestError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { self.message }
}
