import NIOCore
import NIOHTTP1

/// One complete HTTP request as the handlers see it: the head, and the body collected up to the body limit.
package struct AuthRequest: Sendable {
    package var head: HTTPRequestHead
    /// The body's bytes; `nil` when the request had none or when it was over the limit.
    package var body: ByteBuffer?
    /// The body was longer than the server's `maxBodyBytes` (it was read and dropped).
    package var bodyTooLarge: Bool

    package init(head: HTTPRequestHead, body: ByteBuffer? = nil, bodyTooLarge: Bool = false) {
        self.head = head
        self.body = body
        self.bodyTooLarge = bodyTooLarge
    }

    package var headers: HTTPHeaders { self.head.headers }

    /// The request target without its query.
    package var path: Substring {
        let uri = self.head.uri
        guard let query = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return uri[...] }
        return uri[..<query]
    }
}
