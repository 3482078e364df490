import HummingbirdCore
import Logging
import NIOCore
import NIOPosix

/// With `handlersOnEventLoop`: wraps Hummingbird's HTTP/1.1 child channel so that each connection's task — the loop
/// that reads its requests, the router, the handlers — runs with the connection's own event loop as task-executor
/// preference.
///
/// A request is then parsed, handled and answered on one thread, with no hop to Swift's global executor and back; the
/// Redis round trip crosses threads only with `dedicatedRedisEventLoop`. With several workers, connections spread over
/// their event loops and so do their handlers.
struct EventLoopAffineChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let executors: EventLoopTaskExecutors

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        guard let executor = self.executors[value.channel.eventLoop] else {
            await self.base.handle(value: value, logger: logger)
            return
        }
        await withTaskExecutorPreference(executor) {
            await self.base.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 whose connection tasks run on their channel's event loop (see ``EventLoopAffineChildChannel``).
    static func eventLoopAffineHTTP1(_ group: MultiThreadedEventLoopGroup) -> HTTPServerBuilder {
        let executors = EventLoopTaskExecutors(group)
        return HTTPServerBuilder { responder in
            EventLoopAffineChildChannel(
                base: HTTP1Channel(responder: responder, configuration: ParserErrorResponseHandler.http1Configuration), executors: executors)
        }
    }
}

/// One ``EventLoopTaskExecutor`` per event loop of a group, looked up by loop.
final class EventLoopTaskExecutors: Sendable {
    private let byLoop: [ObjectIdentifier: EventLoopTaskExecutor]

    init(_ group: MultiThreadedEventLoopGroup) {
        var byLoop: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() {
            byLoop[ObjectIdentifier(loop)] = EventLoopTaskExecutor(loop)
        }
        self.byLoop = byLoop
    }

    subscript(loop: any EventLoop) -> EventLoopTaskExecutor? {
        self.byLoop[ObjectIdentifier(loop)]
    }
}
