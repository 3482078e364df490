import NIOCore
import NIOHTTP1

/// The last handler of a user's pipeline: writes the user's requests and hands complete responses back to it.
/// Lives on the user's event loop, like the user.
final class UserConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let user: VirtualUser
    private var context: ChannelHandlerContext?
    private var status: Int = 0
    private var closeAfterResponse = false
    private var collectBody = false
    private var body: ByteBuffer? = nil
    /// Error seen before the channel went inactive, used to classify the close.
    private(set) var lastError: (any Error)? = nil

    init(user: VirtualUser) {
        self.user = user
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.user.connectionClosed(handler: self, error: self.lastError)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.lastError == nil { self.lastError = error }
        context.close(promise: nil)
    }

    /// Writes one request; `collectBody` keeps the response body for captures.
    @inline(__always)
    func send(head: HTTPRequestHead, body: ByteBuffer?, collectBody: Bool) {
        guard let context = self.context else { return }
        self.collectBody = collectBody
        self.body = nil
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    var allocator: ByteBufferAllocator { self.context?.channel.allocator ?? ByteBufferAllocator() }

    func close() {
        self.context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
            self.closeAfterResponse = !head.isKeepAlive
        case .body(var chunk):
            if self.collectBody {
                if self.body == nil {
                    self.body = chunk
                } else {
                    self.body!.writeBuffer(&chunk)
                }
            }
        case .end:
            let body = self.body
            self.body = nil
            let close = self.closeAfterResponse
            self.closeAfterResponse = false
            self.user.responseReceived(status: self.status, body: body, connectionWillClose: close)
            if close { context.close(promise: nil) }
        }
    }
}
