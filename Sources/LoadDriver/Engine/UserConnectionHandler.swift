import NIOCore

/// The only handler of a user's pipeline: writes the user's pre-encoded requests and parses responses with
/// ``HTTPResponseParser`` (no per-request header objects, one write and one flush per request).
/// Lives on the user's event loop, like the user. Closed-loop users connect this way, as do paced users when the
/// timer resolution is 0 (exact times).
final class UserConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, UserConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let user: VirtualUser
    private var context: ChannelHandlerContext?
    private var parser = HTTPResponseParser()
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

    func channelInactive(context: ChannelHandlerContext) {
        // A body delimited by the close is complete now; a response cut short is an error.
        do {
            if let response = try self.parser.connectionClosed() {
                self.user.responseReceived(status: response.status, body: response.body, connectionWillClose: true, at: nowNanos())
            }
        } catch {
            if self.lastError == nil { self.lastError = error }
        }
        self.user.connectionClosed(self, error: self.lastError)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.lastError == nil { self.lastError = error }
        context.close(promise: nil)
    }

    func send(_ request: ByteBuffer, isHEAD: Bool, collectBody: Bool) {
        guard let context = self.context else { return }
        self.parser.expect(isHEAD: isHEAD, collectBody: collectBody)
        context.writeAndFlush(self.wrapOutboundOut(request), promise: nil)
    }

    var allocator: ByteBufferAllocator { self.context?.channel.allocator ?? ByteBufferAllocator() }

    func close() {
        self.context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        do {
            while let response = try self.parser.feed(&bytes) {
                self.user.responseReceived(
                    status: response.status, body: response.body, connectionWillClose: !response.keepAlive, at: nowNanos())
                if !response.keepAlive {
                    context.close(promise: nil)
                    return
                }
            }
        } catch {
            if self.lastError == nil { self.lastError = error }
            context.close(promise: nil)
        }
    }
}
