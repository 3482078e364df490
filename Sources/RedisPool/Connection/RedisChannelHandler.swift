import DequeModule
import NIOCore

/// What `RedisConnection` writes into its channel: encoded commands and the promise awaiting their replies.
package struct RedisRequest {
    package enum Completion {
        case single(EventLoopPromise<RedisReply>)
        case pipeline(count: Int, EventLoopPromise<[RedisReply]>)
    }
    package var bytes: ByteBuffer
    package var completion: Completion
}

/// Matches replies to requests in order, parses them with hiredis and enforces the command timeout.
///
/// Confined to its channel's event loop. On a command timeout it fails every pending request and closes the channel:
/// a late reply would otherwise be taken for the next command's.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private enum Pending {
        case single(EventLoopPromise<RedisReply>, deadline: NIODeadline)
        case pipeline(remaining: Int, replies: [RedisReply], EventLoopPromise<[RedisReply]>, deadline: NIODeadline)

        var deadline: NIODeadline {
            switch self {
            case .single(_, let d), .pipeline(_, _, _, let d): d
            }
        }

        func fail(_ error: any Error) {
            switch self {
            case .single(let p, _): p.fail(error)
            case .pipeline(_, _, let p, _): p.fail(error)
            }
        }
    }

    private let reader = RESPReplyReader()
    private var pending = Deque<Pending>()
    private let commandTimeout: TimeAmount
    private var timeoutCheck: Scheduled<Void>?
    private var failure: (any Error)?
    private weak var context: ChannelHandlerContext?

    init(commandTimeout: TimeAmount) {
        self.commandTimeout = commandTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        failAll(failure ?? RedisConnectionError(.connectionClosed, "connection closed"))
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            switch request.completion {
            case .single(let p): p.fail(failure)
            case .pipeline(_, let p): p.fail(failure)
            }
            promise?.fail(failure)
            return
        }
        let deadline = NIODeadline.now() + commandTimeout
        switch request.completion {
        case .single(let p): pending.append(.single(p, deadline: deadline))
        case .pipeline(let count, let p):
            var replies: [RedisReply] = []
            replies.reserveCapacity(count)
            pending.append(.pipeline(remaining: count, replies: replies, p, deadline: deadline))
        }
        if timeoutCheck == nil { scheduleTimeoutCheck(context: context, at: deadline) }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { reader.feed($0) }
        do {
            while let reply = try reader.next() {
                deliver(reply, context: context)
            }
        } catch {
            fatal(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        timeoutCheck = nil
        if failure == nil { failure = RedisConnectionError(.connectionClosed, "connection closed by peer") }
        failAll(failure!)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fatal(RedisConnectionError(.connectionClosed, "\(error)"), context: context)
    }

    private func deliver(_ reply: RedisReply, context: ChannelHandlerContext) {
        guard let head = pending.popFirst() else {
            fatal(RedisConnectionError(.protocolError, "reply without a pending command"), context: context)
            return
        }
        switch head {
        case .single(let promise, _):
            promise.succeed(reply)
        case .pipeline(let remaining, var replies, let promise, let deadline):
            replies.append(reply)
            if remaining == 1 {
                promise.succeed(replies)
            } else {
                pending.prepend(.pipeline(remaining: remaining - 1, replies: replies, promise, deadline: deadline))
            }
        }
    }

    private func scheduleTimeoutCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeoutCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.checkTimeouts()
        }
    }

    private func checkTimeouts() {
        timeoutCheck = nil
        guard let context, let head = pending.first else { return }
        if head.deadline <= .now() {
            let ms = commandTimeout.nanoseconds / 1_000_000
            fatal(RedisConnectionError(.commandTimeout, "no reply within \(ms) ms"), context: context)
        } else {
            scheduleTimeoutCheck(context: context, at: head.deadline)
        }
    }

    private func fatal(_ error: any Error, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        failAll(failure!)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let p = pending.popFirst() { p.fail(error) }
    }
}
