import NIOCore

/// A Swift `TaskExecutor` that runs jobs on one NIO event loop: HTTP connections prefer their channel's loop (see
/// ``EventLoopAffineChildChannel``). Nothing blocking may run there; PBKDF2 has its own thread pool.
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
