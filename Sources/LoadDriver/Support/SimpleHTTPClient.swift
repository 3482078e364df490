import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal one-request-per-connection HTTP/1.1 GET client for probing and pool monitoring (a few requests per
/// second at most; not the load path). Package-visible for the test support's fault checks (readiness, a 503's
/// headers).
package enum SimpleHTTPClient {
    package struct Response: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: ByteBuffer
    }

    package static func get(
        address: SocketAddress, hostHeader: String, path: String, headers extraHeaders: [(String, String)] = [],
        on loop: any EventLoop, timeout: TimeAmount
    ) -> EventLoopFuture<Response> {
        let promise = loop.makePromise(of: Response.self)
        let timeoutTask = loop.scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(timeout))
        }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(OneShotHandler(promise: promise))
                }
            }
            .connect(to: address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: hostHeader)
                    headers.add(name: "Connection", value: "close")
                    for (name, value) in extraHeaders { headers.add(name: name, value: value) }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    promise.futureResult.whenComplete { _ in
                        timeoutTask.cancel()
                        channel.close(promise: nil)
                    }
                case .failure(let error):
                    timeoutTask.cancel()
                    promise.fail(error)
                }
            }
        return promise.futureResult
    }

    /// Just connects (and closes): is anything listening?
    package static func probe(address: SocketAddress, on loop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .connect(to: address)
            .flatMap { channel in channel.close() }
    }

    private final class OneShotHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<Response>
        var status = 0
        var headers = HTTPHeaders()
        var body = ByteBuffer()

        init(promise: EventLoopPromise<Response>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                self.status = Int(head.status.code)
                self.headers = head.headers
            case .body(var chunk): self.body.writeBuffer(&chunk)
            case .end: self.promise.succeed(Response(status: self.status, headers: self.headers, body: self.body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.promise.fail(error)
            context.close(promise: nil)
        }
    }
}
