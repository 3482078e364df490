import NIOCore
import NIOHTTP1

/// One response of the service: its status, the headers a handler sets (`Content-Type`, `Retry-After`, `Allow`) and
/// its body. ``AuthHTTPHandler`` adds `Content-Length`, `Date`, `Server` and `Connection` when it writes it.
package struct AuthResponse: Sendable {
    package var status: HTTPResponseStatus
    package var headers: HTTPHeaders
    package var body: ByteBuffer

    package init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
