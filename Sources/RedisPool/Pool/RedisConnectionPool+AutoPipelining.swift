import NIOCore
import NIOPosix

extension RedisConnectionPool {
    /// The commands one event loop sends during one loop tick: they share `lease`, are written without a flush, and
    /// leave in one write when the loop runs its tasks after the tick's I/O (`flushTickBatch`). Touched only on its loop.
    final class TickBatch {
        var lease: Lease?
        var commands = 0
        var last: EventLoopFuture<RedisReply>?
        var flushScheduled = false
    }

    static func makeTickBatches(_ group: any EventLoopGroup) -> [ObjectIdentifier: NIOLoopBoundBox<TickBatch>] {
        var batches: [ObjectIdentifier: NIOLoopBoundBox<TickBatch>] = [:]
        for loop in group.makeIterator() {
            batches[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(TickBatch(), eventLoop: loop)
        }
        return batches
    }

    /// One command, auto-pipelined when the caller runs on one of the pool's event loops: it joins the loop's open
    /// batch, or leases a connection and opens one. A command that must wait for a connection waits alone.
    func pipelined(_ arguments: [String]) -> EventLoopFuture<RedisReply> {
        guard configuration.autoPipelineLimit > 1, configuration.reusesConnections,
            let loop = MultiThreadedEventLoopGroup.currentEventLoop,
            let box = tickBatches[ObjectIdentifier(loop)]
        else {
            return withLease { self.send(arguments, on: $0) }
        }
        let batch = box.value
        if let lease = batch.lease {
            if batch.commands < configuration.autoPipelineLimit, !lease.connection.isClosed {
                return Self.add(arguments, to: batch, on: lease.connection)
            }
            flushTickBatch(batch)
        }
        var attempt = 0
        let (decision, now) = leaseNow(attempt: &attempt)
        switch decision {
        case .leased(let lease):
            batch.lease = lease
            if !batch.flushScheduled {
                batch.flushScheduled = true
                loop.execute {
                    let batch = box.value
                    batch.flushScheduled = false
                    self.flushTickBatch(batch)
                }
            }
            return Self.add(arguments, to: batch, on: lease.connection)
        case .failed(let error):
            return loop.makeFailedFuture(error)
        case .mustWait(let id):
            return waitForLease(id, since: now, attempt: attempt, slot: nil) { self.send(arguments, on: $0) }
        }
    }

    private static func add(
        _ arguments: [String], to batch: TickBatch, on connection: RedisConnection
    ) -> EventLoopFuture<RedisReply> {
        let reply = connection.enqueue(arguments)
        batch.commands += 1
        batch.last = reply
        return reply
    }

    /// Sends the batch's commands and closes it; its lease ends with the last reply (replies come in order, and a
    /// lost connection fails every pending command at once). A failed batch counts each of its commands as failed.
    func flushTickBatch(_ batch: TickBatch) {
        guard let lease = batch.lease, let last = batch.last else { return }
        let commands = batch.commands
        batch.lease = nil
        batch.last = nil
        batch.commands = 0
        lease.connection.flush()
        last.whenComplete { result in
            if case .failure(let error) = result { self.countError(error, commands: commands) }
            self.release(lease, roundTrips: commands)
        }
    }
}
