import NIOCore

/// A Swift `TaskExecutor` that runs jobs on one NIO event loop.
///
/// With one worker, the server runs its whole task tree (Hummingbird's per-connection tasks and the request handlers
/// they call) with this executor as preference: a request is parsed, handled and answered on the same thread, with no
/// hop to Swift's global executor and back; only the Redis round trip crosses to the pool's own I/O thread. Nothing
/// blocking runs there: Redis I/O is non-blocking, and PBKDF2 runs on its own thread pool.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
