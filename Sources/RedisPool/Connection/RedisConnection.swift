import Atomics
import Logging
import NIOCore
import NIOPosix

/// One connection to Redis: hiredis encodes and parses, a SwiftNIO channel moves the bytes.
///
/// Thread-safe; commands may be sent from any thread or task and are pipelined in send order. No call blocks a
/// thread: every operation completes on the connection's event loop.
public final class RedisConnection: Sendable {
    private static let ids = ManagedAtomic<Int>(0)

    /// A process-unique number, for logs and metrics.
    public let id: Int
    /// The event loop that owns this connection's channel.
    public let eventLoop: any EventLoop
    private let channel: any Channel
    private let logger: Logger

    private init(channel: any Channel, logger: Logger) {
        self.id = Self.ids.wrappingIncrementThenLoad(ordering: .relaxed)
        self.channel = channel
        self.eventLoop = channel.eventLoop
        var logger = logger
        logger[metadataKey: "redis.connection.id"] = "\(id)"
        self.logger = logger
    }

    /// `true` once the channel has closed for any reason.
    public var isClosed: Bool { !channel.isActive }

    /// Completes when the connection closes: server kill, command timeout, protocol error or `close()`.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Connects, then sends `AUTH` and `SELECT` as the endpoint requires.
    public static func connect(
        to endpoint: RedisEndpoint,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let timeout = TimeAmount(commandTimeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(commandTimeout: timeout))
                }
            }
        return bootstrap.connect(host: endpoint.host, port: endpoint.port)
            .flatMapErrorThrowing { error in
                if let e = error as? ChannelError, case .connectTimeout = e {
                    throw RedisConnectionError(.connectTimeout, "connect to \(endpoint) timed out after \(connectTimeout)")
                }
                throw RedisConnectionError(.connectFailed, "connect to \(endpoint) failed: \(error)")
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel, logger: logger)
                return connection.handshake(endpoint).map { connection }.flatMapError { error in
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
    }

    /// Connects, then sends `AUTH` and `SELECT` as the endpoint requires.
    public static func connect(
        to endpoint: RedisEndpoint,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws -> RedisConnection {
        try await connect(
            to: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout, eventLoop: eventLoop,
            logger: logger
        ).get()
    }

    private func handshake(_ endpoint: RedisEndpoint) -> EventLoopFuture<Void> {
        var commands: [[String]] = []
        if let password = endpoint.password {
            if let username = endpoint.username {
                commands.append(["AUTH", username, password])
            } else {
                commands.append(["AUTH", password])
            }
        }
        if endpoint.database != 0 { commands.append(["SELECT", String(endpoint.database)]) }
        guard !commands.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        let sent = commands
        return sendPipeline(sent).flatMapThrowing { replies in
            for (command, reply) in zip(sent, replies) {
                if case .error(let message) = reply {
                    throw RedisConnectionError(.handshakeFailed, "\(command[0]) refused: \(message)")
                }
            }
        }
    }

    /// Sends one command. Error replies are returned as `.error`, not thrown.
    public func send(_ arguments: [String]) -> EventLoopFuture<RedisReply> {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESPCommandEncoder.encode(arguments, into: &buffer)
        let promise = eventLoop.makePromise(of: RedisReply.self)
        write(RedisRequest(bytes: buffer, completion: .single(promise)), failing: promise)
        return promise.futureResult
    }

    /// Writes one command without flushing it: it leaves with the next ``flush()``. Commands written this way between
    /// two flushes go out in one write (how the pool pipelines the commands of one event-loop tick).
    package func enqueue(_ arguments: [String]) -> EventLoopFuture<RedisReply> {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESPCommandEncoder.encode(arguments, into: &buffer)
        let promise = eventLoop.makePromise(of: RedisReply.self)
        write(RedisRequest(bytes: buffer, completion: .single(promise)), failing: promise, flush: false)
        return promise.futureResult
    }

    /// Sends every command written with ``enqueue(_:)`` since the last flush.
    package func flush() {
        channel.flush()
    }

    /// Writes a request; if it never reaches the handler (the channel closed meanwhile), fails its reply promise.
    ///
    /// On the channel's event loop with the channel active, the handler takes the request synchronously and from then
    /// on fails its reply if the connection goes (`channelInactive`, `handlerRemoved`), so no write promise is needed.
    private func write<T>(_ request: RedisRequest, failing reply: EventLoopPromise<T>, flush: Bool = true) {
        if eventLoop.inEventLoop, channel.isActive {
            if flush {
                channel.writeAndFlush(request, promise: nil)
            } else {
                channel.write(request, promise: nil)
            }
            return
        }
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            // A no-op when the handler already completed the reply (NIO ignores a second completion).
            reply.fail(RedisConnectionError(.connectionClosed, "connection closed: \(error)"))
        }
        if flush {
            channel.writeAndFlush(request, promise: written)
        } else {
            channel.write(request, promise: written)
        }
    }

    /// Sends one binary-safe command. Error replies are returned as `.error`, not thrown.
    public func send(bytes arguments: [[UInt8]]) -> EventLoopFuture<RedisReply> {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESPCommandEncoder.encode(arguments, into: &buffer)
        let promise = eventLoop.makePromise(of: RedisReply.self)
        write(RedisRequest(bytes: buffer, completion: .single(promise)), failing: promise)
        return promise.futureResult
    }

    /// Sends several commands in one write; replies come back in order, error replies as `.error`.
    public func sendPipeline(_ commands: [[String]]) -> EventLoopFuture<[RedisReply]> {
        guard !commands.isEmpty else { return eventLoop.makeSucceededFuture([]) }
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { RESPCommandEncoder.encode(command, into: &buffer) }
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        write(RedisRequest(bytes: buffer, completion: .pipeline(count: commands.count, promise)), failing: promise)
        return promise.futureResult
    }

    /// Runs one command; an error reply is thrown as `RedisServerError`.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        let reply = try await send(arguments).get()
        if case .error(let message) = reply { throw RedisServerError(message: message) }
        return reply
    }

    /// Runs one command; an error reply is thrown as `RedisServerError`.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await command(arguments)
    }

    /// Runs one binary-safe command; an error reply is thrown as `RedisServerError`.
    @discardableResult
    public func command(bytes arguments: [[UInt8]]) async throws -> RedisReply {
        let reply = try await send(bytes: arguments).get()
        if case .error(let message) = reply { throw RedisServerError(message: message) }
        return reply
    }

    /// Sends several commands in one write and returns their replies in order (error replies as `.error`).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await sendPipeline(commands).get()
    }

    /// `PING`, expecting `PONG`.
    public func ping() async throws {
        let reply = try await command(["PING"])
        guard reply == .status("PONG") else {
            throw RedisConnectionError(.protocolError, "unexpected PING reply \(reply)")
        }
    }

    /// Closes the channel; pending commands fail with `.connectionClosed`.
    @discardableResult
    public func close() -> EventLoopFuture<Void> {
        channel.close().flatMapError { error in
            if let e = error as? ChannelError, e == .alreadyClosed { return self.eventLoop.makeSucceededVoidFuture() }
            return self.eventLoop.makeFailedFuture(error)
        }
    }
}
