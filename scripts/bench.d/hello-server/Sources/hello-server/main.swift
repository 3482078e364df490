import Foundation
import Hummingbird
import LoadDriver
import NIOCore
import NIOHTTP1
import NIOPosix

// Usage: hello-server PORT [--raw [--in-process-driver USERS RATE SECONDS OUTDIR]] — serves GET / with a fixed body on
// 127.0.0.1:PORT until terminated.
// Default: a Hummingbird route. --raw: a bare SwiftNIO HTTP/1.1 server on one event-loop thread that answers every
// request with the same canned response (keep-alive), no routing, no async/await — the cheapest target there is.
// --in-process-driver: also runs the LoadDriver in this same process, USERS paced users at RATE req/s each for
// SECONDS, writes the result JSON into OUTDIR and exits (the driver sharing its process with the server under test).
let arguments = Array(CommandLine.arguments.dropFirst())
let port = arguments.first.flatMap { Int($0) } ?? 8080

if arguments.contains("--raw") {
    let server = try await RawHelloServer.start(port: port)
    if let at = arguments.firstIndex(of: "--in-process-driver") {
        let values = arguments.dropFirst(at + 1).prefix(4)
        guard values.count == 4, let users = Int(values[values.startIndex]),
            let rate = Double(values[values.startIndex + 1]), let seconds = Double(values[values.startIndex + 2])
        else {
            FileHandle.standardError.write(Data("usage: hello-server PORT --raw --in-process-driver USERS RATE SECONDS OUTDIR\n".utf8))
            exit(2)
        }
        let scenario = Scenario(
            name: "driver-in-process-bench", users: users, load: .pacedUsers(ratePerUser: rate), durationSeconds: seconds,
            rampUpSeconds: 4, mix: [.init(weight: 1, request: RequestTemplate(name: "hello", path: "/"))])
        let result = try await LoadRunner(try .init(url: "http://127.0.0.1:\(port)", poolMonitorPath: nil)).run(scenario)
        _ = try result.write(toDirectory: URL(fileURLWithPath: values[values.startIndex + 3]))
        print(result.summaryTable())
        exit(0)
    }
    try await server.closeFuture.get()
} else {
    let router = Router()
    router.get("/") { _, _ -> String in
        "Hello, world!"
    }
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello-server")
    )
    try await app.runService()
}

enum RawHelloServer {
    static func start(port: Int) async throws -> any Channel {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(CannedResponder())
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }
}

final class CannedResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let body = "Hello, world!"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = self.unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(Self.body.utf8.count))
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: Self.body)))), promise: nil)
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
