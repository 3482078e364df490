import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HTTP/1.1 server: SwiftNIO's channel pipeline (NIO's HTTP/1.1 request decoder, then one ``AuthHTTPHandler`` per
/// connection, which encodes the responses), as a ServiceLifecycle `Service`.
///
/// `run()` runs `beforeStart` (the Redis start-up check), binds, reports the bound port through `onListening`, and
/// serves until graceful shutdown or cancellation; then it stops accepting, lets each connection finish the request
/// it is answering (idle connections close at once) and returns when every connection has closed.
final class AuthHTTPServer: Service, Sendable {
    /// NIO's HTTP/1 decoder limits: at most 1,000 header fields, 80 KiB per field and for all fields together; over
    /// them the request is answered 431.
    static let decoderLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 80 * 1024
        limits.maxHeaderListSize = 80 * 1024
        limits.maxHeaderFieldCount = 1_000
        return limits
    }()

    private let configuration: AuthServiceConfiguration
    private let router: AuthRouter
    private let metrics: AuthHTTPMetrics
    private let eventLoopGroup: MultiThreadedEventLoopGroup
    private let beforeStart: @Sendable () async throws -> Void
    private let onListening: @Sendable (Int) async -> Void
    private let logger: Logger
    private let quiescing: ServerQuiescingHelper
    private let shutdownStarted = Atomic<Bool>(false)

    init(
        configuration: AuthServiceConfiguration,
        router: AuthRouter,
        metrics: AuthHTTPMetrics,
        eventLoopGroup: MultiThreadedEventLoopGroup,
        logger: Logger,
        beforeStart: @escaping @Sendable () async throws -> Void,
        onListening: @escaping @Sendable (Int) async -> Void
    ) {
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.beforeStart = beforeStart
        self.onListening = onListening
        self.quiescing = ServerQuiescingHelper(group: eventLoopGroup)
    }

    func run() async throws {
        try await self.beforeStart()
        let router = self.router
        let metrics = self.metrics
        let maxBodyBytes = self.configuration.maxBodyBytes
        let serverName = self.configuration.serverName
        let quiescing = self.quiescing
        let channel = try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(clamping: self.configuration.backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: Self.decoderLimits)))
                    try channel.pipeline.syncOperations.addHandler(
                        AuthHTTPHandler(router: router, metrics: metrics, maxBodyBytes: maxBodyBytes, serverName: serverName))
                }
            }
            .bind(host: self.configuration.host, port: self.configuration.port)
            .get()
        await self.onListening(channel.localAddress?.port ?? 0)

        let closed = self.eventLoopGroup.any().makePromise(of: Void.self)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await closed.futureResult.get()
            } onGracefulShutdown: {
                self.initiateShutdown(closed)
            }
        } onCancel: {
            self.initiateShutdown(closed)
        }
    }

    private func initiateShutdown(_ promise: EventLoopPromise<Void>) {
        guard !self.shutdownStarted.exchange(true, ordering: .relaxed) else { return }
        self.logger.debug("auth-server stops accepting; open connections finish their current request")
        self.quiescing.initiateShutdown(promise: promise)
    }
}
