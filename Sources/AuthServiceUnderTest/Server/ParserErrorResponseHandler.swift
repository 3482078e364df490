import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Gives a request that the HTTP/1.1 parser rejects the service's JSON error body.
///
/// When NIO's decoder throws an `HTTPParserError` (bad request line or header syntax, conflicting framing headers,
/// non-ASCII bytes in the request target, headers over the decoder limits), HummingbirdCore answers by itself, outside
/// the router and so outside ``AuthServerMiddleware``: a bare `400` with `Content-Length: 0` and
/// `Connection: close`. This handler sits between the HTTP/1 codec and Hummingbird, notes the parser error on its way
/// in (and passes it on), and turns that bare answer into `431 header_fields_too_large` for
/// `HTTPParserError.headerOverflow`, else `400 malformed_request`, with the JSON body. Every answer of a route has a
/// `Content-Type`, so only the parser-error answer (a 400 without one, after a parser error) is rewritten.
final class ParserErrorResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Hummingbird's HTTP/1.1 channel (default decoder limits) with this handler on every connection.
    static var http1Configuration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(additionalChannelHandlers: [ParserErrorResponseHandler()])
    }

    private var parserError: HTTPParserError?

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { self.parserError = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let parserError = self.parserError, case .head(var head) = self.unwrapOutboundIn(data),
            head.status == .badRequest, head.headerFields[.contentType] == nil
        else {
            context.write(data, promise: promise)
            return
        }
        let error: AuthHTTPError = parserError == .headerOverflow ? .headerFieldsTooLarge : .malformedRequest
        let body = JSONResponses.errorBody(error)
        head.status = error.status
        head.headerFields[.contentType] = JSONResponses.jsonContentType
        head.headerFields[.contentLength] = String(body.readableBytes)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: promise)
    }
}
