import DequeModule
import NIOCore
import NIOHTTP1

/// The service's HTTP/1.1 handler, one per connection, right after NIO's request decoder.
///
/// A request is collected (its body up to `maxBodyBytes`; a longer body is read and dropped, and the handler answers
/// 413), routed by ``AuthRouter`` and answered on the connection's event loop: no task per request unless the
/// handler itself needs one. Each response is encoded by this handler into one buffer (status line, headers with
/// `Content-Length`, `Date`, `Server`, `Connection`, body) and written with one flush.
///
/// Pipelined requests are answered one at a time, in order. A request that NIO's parser rejects gets the JSON error
/// body — `431 header_fields_too_large` for header overflow, else `400 malformed_request` — after the answers to the
/// requests before it, and the connection closes. On half-closure and on quiescing (graceful shutdown) the connection
/// closes once the request being answered is answered.
final class AuthHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Complete requests held before the connection stops reading (backpressure against a pipelining flood).
    static let maximumQueuedRequests = 16

    private let router: AuthRouter
    private let metrics: AuthHTTPMetrics
    private let maxBodyBytes: Int
    private let serverName: String?

    /// The request being received: head, body so far, and whether the body went over the limit.
    private var receiving: (head: HTTPRequestHead, body: ByteBuffer?, tooLarge: Bool)?
    /// Complete requests not yet answered, in order; the first is being answered when `answering`.
    private var queue = Deque<AuthRequest>()
    private var answering = false
    /// A parser error to answer once the requests before it are answered.
    private var parserError: HTTPParserError?
    /// No more requests will be answered after the current one (half-closure, quiescing, `Connection: close`).
    private var closing = false
    private var closed = false
    /// A `read` held back while the queue is full.
    private var readPending = false
    private var date = HTTPDate()

    init(router: AuthRouter, metrics: AuthHTTPMetrics, maxBodyBytes: Int, serverName: String?) {
        self.router = router
        self.metrics = metrics
        self.maxBodyBytes = maxBodyBytes
        self.serverName = serverName
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closed, self.parserError == nil else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.receiving = (head, nil, false)
        case .body(var chunk):
            guard var request = self.receiving, !request.tooLarge else { return }
            self.receiving = nil  // drops the second reference to the body, so appending does not copy it
            if (request.body?.readableBytes ?? 0) + chunk.readableBytes > self.maxBodyBytes {
                request.body = nil
                request.tooLarge = true
            } else if request.body == nil {
                request.body = chunk
            } else {
                request.body!.writeBuffer(&chunk)
            }
            self.receiving = request
        case .end:
            guard let request = self.receiving else { return }
            self.receiving = nil
            self.queue.append(AuthRequest(head: request.head, body: request.body, bodyTooLarge: request.tooLarge))
            self.answerNext(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            self.close(context: context)
            return
        }
        guard self.parserError == nil, !self.closed else { return }
        self.parserError = error
        self.receiving = nil
        if !self.answering { self.answerNext(context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // An incomplete request is reported by the decoder as a parser error; answer what is complete, then close.
            self.closing = true
            if !self.answering { self.answerNext(context: context) }
        case is ChannelShouldQuiesceEvent:
            self.closing = true
            if !self.answering, self.receiving == nil { self.answerNext(context: context) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func read(context: ChannelHandlerContext) {
        if self.queue.count >= Self.maximumQueuedRequests {
            self.readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Answering

    /// Answers queued requests in order until one must wait for I/O; then the queued parser error; closes when
    /// nothing more will be answered.
    private func answerNext(context: ChannelHandlerContext) {
        while !self.answering, !self.closed {
            guard let request = self.queue.popFirst() else {
                if let error = self.parserError {
                    self.writeParserError(error, context: context)
                } else if self.closing, self.receiving == nil {
                    self.close(context: context)
                }
                return
            }
            self.answering = true
            if self.readPending, self.queue.count < Self.maximumQueuedRequests {
                self.readPending = false
                context.read()
            }
            let route = AuthRoute(path: request.path)
            let start = NIODeadline.now()
            switch self.router.respond(to: request, route: route, on: context.eventLoop) {
            case .now(let response):
                self.write(response, for: request, route: route, start: start, context: context)
            case .later(let future):
                self.answer(later: future, admitted: nil, for: request, route: route, start: start, context: context)
            case .admitted(let future, let admission):
                self.answer(later: future, admitted: admission, for: request, route: route, start: start, context: context)
            }
        }
    }

    /// Writes the answer when `future` completes, first freeing the admission slot the request held, if any.
    private func answer(
        later future: EventLoopFuture<AuthResponse>, admitted admission: AdmissionLimiter?, for request: AuthRequest,
        route: AuthRoute?, start: NIODeadline, context: ChannelHandlerContext
    ) {
        future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            admission?.leave()
            switch result {
            case .success(let response):
                self.write(response, for: request, route: route, start: start, context: context)
            case .failure(let error):
                self.write(self.router.response(for: error, request), for: request, route: route, start: start, context: context)
            }
            self.answerNext(context: context)
        }
    }

    private func write(
        _ response: AuthResponse, for request: AuthRequest, route: AuthRoute?, start: NIODeadline,
        context: ChannelHandlerContext
    ) {
        self.answering = false
        guard !self.closed else { return }
        self.metrics.record(route: route, status: Int(response.status.code), nanoseconds: (NIODeadline.now() - start).nanoseconds)
        // A later request's parser error, half-closure or quiescing end the connection after this answer.
        let keepAlive = request.head.isKeepAlive && !self.closing && self.parserError == nil
        var buffer = context.channel.allocator.buffer(capacity: 192 + response.body.readableBytes)
        Self.writeHead(
            status: response.status, version: request.head.version, headers: response.headers,
            contentLength: response.body.readableBytes, date: self.date.now(), serverName: self.serverName,
            connection: keepAlive ? (request.head.version.minor == 0 ? "keep-alive" : nil) : "close", into: &buffer)
        if request.head.method != .HEAD { buffer.writeImmutableBuffer(response.body) }
        if keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        } else {
            self.closeAfter(buffer, context: context)
        }
    }

    private func writeParserError(_ error: HTTPParserError, context: ChannelHandlerContext) {
        let answer: AuthHTTPError = error == .headerOverflow ? .headerFieldsTooLarge : .malformedRequest
        let body = JSONResponses.errorBody(answer)
        self.metrics.record(route: nil, status: Int(answer.status.code), nanoseconds: 0)
        var buffer = context.channel.allocator.buffer(capacity: 192 + body.readableBytes)
        Self.writeHead(
            status: answer.status, version: .http1_1, headers: JSONResponses.jsonHeaders,
            contentLength: body.readableBytes, date: self.date.now(), serverName: self.serverName,
            connection: "close", into: &buffer)
        buffer.writeImmutableBuffer(body)
        self.closeAfter(buffer, context: context)
    }

    /// `HTTP/1.x <status>`, the handler's headers, then `Content-Length`, `Date`, `Server`, `Connection`.
    static func writeHead(
        status: HTTPResponseStatus, version: HTTPVersion, headers: HTTPHeaders, contentLength: Int, date: String,
        serverName: String?, connection: String?, into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString(version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(contentLength))
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(date)
        buffer.writeStaticString("\r\n")
        if let serverName {
            buffer.writeStaticString("Server: ")
            buffer.writeString(serverName)
            buffer.writeStaticString("\r\n")
        }
        if let connection {
            buffer.writeStaticString("Connection: ")
            buffer.writeString(connection)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// Writes `buffer`, flushes and closes the connection once it is written; nothing more is answered.
    private func closeAfter(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        self.closed = true
        self.queue.removeAll()
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func close(context: ChannelHandlerContext) {
        guard !self.closed else { return }
        self.closed = true
        self.queue.removeAll()
        context.close(promise: nil)
    }
}
