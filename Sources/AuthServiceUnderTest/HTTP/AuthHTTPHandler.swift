import NIOCore
import NIOHTTP1

/// The service's HTTP/1.1 handler, one per connection, after NIO's server codec and `HTTPServerPipelineHandler`
/// (which hands it one request at a time and closes an idle connection on quiescing or half-closure).
///
/// A request is collected (its body up to `maxBodyBytes`; a longer body is read and dropped, and the handler answers
/// 413), routed by ``AuthRouter`` and answered on the connection's event loop: no task per request unless the
/// handler itself needs one. A request that NIO's parser rejects gets the JSON error body — `431
/// header_fields_too_large` for header overflow, else `400 malformed_request` — and the connection closes.
final class AuthHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer?, tooLarge: Bool)
        case responding(AuthRequest, AuthRoute?)
        case closed
    }

    private let router: AuthRouter
    private let metrics: AuthHTTPMetrics
    private let maxBodyBytes: Int
    private let serverName: String?
    private var state = State.idle
    /// The client half-closed while a response was pending: close once it is written.
    private var inputClosed = false
    private var date = HTTPDate()

    init(router: AuthRouter, metrics: AuthHTTPMetrics, maxBodyBytes: Int, serverName: String?) {
        self.router = router
        self.metrics = metrics
        self.maxBodyBytes = maxBodyBytes
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = self.state else { return }
            self.state = .receiving(head, nil, tooLarge: false)
        case .body(var chunk):
            guard case .receiving(let head, var body, let tooLarge) = self.state else { return }
            if tooLarge { return }
            self.state = .idle  // drops the reference `body` shares with `state`, so appending does not copy
            if (body?.readableBytes ?? 0) + chunk.readableBytes > self.maxBodyBytes {
                self.state = .receiving(head, nil, tooLarge: true)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
            self.state = .receiving(head, body, tooLarge: false)
        case .end:
            guard case .receiving(let head, let body, let tooLarge) = self.state else { return }
            self.dispatch(AuthRequest(head: head, body: body, bodyTooLarge: tooLarge), context: context)
        }
    }

    private func dispatch(_ request: AuthRequest, context: ChannelHandlerContext) {
        let route = AuthRoute(path: request.path)
        self.state = .responding(request, route)
        let start = NIODeadline.now()
        switch self.router.respond(to: request, route: route, on: context.eventLoop) {
        case .now(let response):
            self.write(response, start: start, context: context)
        case .later(let future):
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let response):
                    self.write(response, start: start, context: context)
                case .failure(let error):
                    self.write(self.router.response(for: error, request), start: start, context: context)
                }
            }
        }
    }

    private func write(_ response: AuthResponse, start: NIODeadline, context: ChannelHandlerContext) {
        guard case .responding(let request, let route) = self.state else { return }
        self.state = .idle
        self.metrics.record(route: route, status: Int(response.status.code), nanoseconds: (NIODeadline.now() - start).nanoseconds)
        let keepAlive = request.head.isKeepAlive && !self.inputClosed
        var headers = response.headers
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "Date", value: self.date.now())
        if let serverName = self.serverName { headers.add(name: "Server", value: serverName) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.head.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.head.version, status: response.status, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            self.closeAfter(.end(nil), context: context)
        }
    }

    /// Writes `part`, flushes and closes the connection once it is written.
    private func closeAfter(_ part: HTTPServerResponsePart, context: ChannelHandlerContext) {
        self.state = .closed
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(part), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        switch self.state {
        case .idle, .receiving:
            // No response is pending (the pipeline handler delivers a later request's error after the response).
            let answer: AuthHTTPError = parserError == .headerOverflow ? .headerFieldsTooLarge : .malformedRequest
            let body = JSONResponses.errorBody(answer)
            var headers = JSONResponses.jsonHeaders
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            headers.add(name: "Date", value: self.date.now())
            headers.add(name: "Connection", value: "close")
            self.metrics.record(route: nil, status: Int(answer.status.code), nanoseconds: 0)
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            self.closeAfter(.end(nil), context: context)
        case .responding:
            self.inputClosed = true
        case .closed:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            switch self.state {
            case .idle: context.close(promise: nil)
            case .responding: self.inputClosed = true
            case .receiving, .closed: break  // an incomplete request: the decoder reports it as a parser error
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
