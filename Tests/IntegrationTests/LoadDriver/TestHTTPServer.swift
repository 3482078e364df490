import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server for LoadDriver integration tests: fixed response delay, an optional one-off stall,
/// a fake pool endpoint, and token endpoints that revoke on refresh.
final class TestHTTPServer: Sendable {
    struct Behavior: Sendable {
        /// Delay before every response.
        var delay: TimeAmount = .milliseconds(20)
        /// The N-th request (0-based, counting load requests to non-auth paths) is delayed by `stallDelay` instead.
        var stallRequestIndex: Int? = nil
        var stallDelay: TimeAmount = .milliseconds(500)
        /// `/work`'s body padded to this many bytes.
        var workBodyBytes: Int? = nil
        /// Write the first half of each response, then the rest after this gap.
        var splitGap: TimeAmount? = nil
        /// Answer with `Connection: close` and close after each response.
        var closeAfterEachResponse = false
    }

    final class State: Sendable {
        let requestCount = Mutex(0)
        let validTokens = Mutex(Set<String>())
        let tokenCounter = Mutex(0)
        let revokedUsed = Mutex(0)
        /// For each load request (`/work`, `/fail`): the server's own time from the request's end to its response
        /// being written, in milliseconds. The driver's service time for a request can never be shorter.
        let handledMs = Mutex([Double]())
    }

    /// The median of `State.handledMs`: what the server itself took, to hold the driver's figures against.
    var handledMedianMs: Double? {
        let sorted = self.state.handledMs.withLock { $0 }.sorted()
        return sorted.isEmpty ? nil : sorted[sorted.count / 2]
    }

    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let state: State
    var port: Int { self.channel.localAddress!.port! }
    var url: String { "http://127.0.0.1:\(self.port)" }

    init(behavior: Behavior) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = State()
        self.group = group
        self.state = state
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(behavior: behavior, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async throws {
        try? await self.channel.close()
        try await self.group.shutdownGracefully()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let behavior: Behavior
        let state: State
        var head: HTTPRequestHead?

        init(behavior: Behavior, state: State) {
            self.behavior = behavior
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let h): self.head = h
            case .body: break
            case .end:
                guard let head = self.head else { return }
                let (status, plainBody) = self.respond(head)
                var delay = self.behavior.delay
                let received = NIODeadline.now()
                let isLoad = head.uri.hasPrefix("/work") || head.uri.hasPrefix("/fail")
                if isLoad {
                    let n = self.state.requestCount.withLock { c in
                        defer { c += 1 }
                        return c
                    }
                    if n == self.behavior.stallRequestIndex { delay = self.behavior.stallDelay }
                } else {
                    delay = .zero
                }
                let keepAlive = head.isKeepAlive && !self.behavior.closeAfterEachResponse
                var body = plainBody
                if head.uri == "/work", let size = self.behavior.workBodyBytes, size > body.utf8.count {
                    body += String(repeating: " ", count: size - body.utf8.count)
                }
                let splitGap = self.behavior.splitGap
                context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    if isLoad {
                        let handled = Double((NIODeadline.now() - received).nanoseconds) / 1e6
                        self.state.handledMs.withLock { $0.append(handled) }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: String(body.utf8.count))
                    if !keepAlive { headers.add(name: "Connection", value: "close") }
                    let bytes = ByteBuffer(string: body)
                    let half = splitGap == nil ? bytes.readableBytes : bytes.readableBytes / 2
                    context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(bytes.getSlice(at: 0, length: half)!))), promise: nil)
                    let finish = {
                        if half < bytes.readableBytes {
                            context.write(self.wrapOutboundOut(.body(.byteBuffer(bytes.getSlice(at: half, length: bytes.readableBytes - half)!))), promise: nil)
                        }
                        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                        if !keepAlive { context.close(promise: nil) }
                    }
                    if let splitGap {
                        context.eventLoop.assumeIsolated().scheduleTask(in: splitGap, finish)
                    } else {
                        finish()
                    }
                }
            }
        }

        func respond(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
            let bearer = head.headers.first(name: "Authorization").map { String($0.dropFirst("Bearer ".count)) }
            switch head.uri {
            case "/health/redis":
                return (.ok, #"{"utilization":0.25,"inUse":2,"name":"pool","nested":{"waiters":3}}"#)
            case "/fail":
                return (.internalServerError, #"{"error":"boom"}"#)
            case "/login-crlf":
                // A token that would inject a header if sent as is.
                return (.ok, #"{"token":"a\r\nX-Injected: 1","expiresIn":60}"#)
            case "/login":
                let token = self.newToken()
                return (.ok, #"{"token":"\#(token)","expiresIn":60}"#)
            case "/verify", "/refresh":
                guard let bearer, self.state.validTokens.withLock({ $0.contains(bearer) }) else {
                    self.state.revokedUsed.withLock { $0 += 1 }
                    return (.unauthorized, #"{"error":"invalid token"}"#)
                }
                if head.uri == "/verify" { return (.ok, #"{"user":"u"}"#) }
                _ = self.state.validTokens.withLock { $0.remove(bearer) }
                return (.ok, #"{"token":"\#(self.newToken())","expiresIn":60}"#)
            default:
                return (.ok, #"{"ok":true}"#)
            }
        }

        func newToken() -> String {
            let n = self.state.tokenCounter.withLock { c in
                c += 1
                return c
            }
            let token = "tok-\(n)"
            _ = self.state.validTokens.withLock { $0.insert(token) }
            return token
        }
    }
}
