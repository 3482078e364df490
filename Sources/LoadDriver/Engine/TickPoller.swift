#if os(Linux)
import CEpoll
import Glibc
import NIOCore

/// The sockets of one worker's paced users, read once per timer tick (``LoopWorker``) rather than when each response
/// arrives, so the driver's event loop wakes once per tick instead of once or twice per request.
///
/// A paced or arrival-rate user sends on the tick grid anyway (`LoadRunner.Configuration.timerResolutionMs`), so
/// reading on it changes no send time that matters: a slot found busy goes out at the first tick after its response
/// instead of at once, and that wait is in its latency, which runs from the slot. A response's time is the kernel's
/// receive timestamp (`SO_TIMESTAMPNS`), not the time the tick read it, so latency and service time stay exact.
///
/// Its own epoll set, never registered with SwiftNIO; polled without blocking, on the worker's event loop only.
final class TickPoller {
    private let epoll: Int32
    private var connections: [Int32: TickConnection] = [:]
    private var events: UnsafeMutableBufferPointer<epoll_event>
    /// Reused for every read; the parser copies out what it keeps.
    var readBuffer: ByteBuffer
    /// Ancillary data of one `recvmsg`: room for the receive timestamp.
    private let control: UnsafeMutableRawBufferPointer
    /// CLOCK_MONOTONIC minus CLOCK_REALTIME at this poll, to turn receive timestamps into ``nowNanos()`` time.
    private(set) var realtimeOffset: Int64 = 0
    private(set) var pollTime: Int64 = 0

    static let readSize = 16 * 1024

    init() throws {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "epoll_create1") }
        self.epoll = fd
        self.events = .allocate(capacity: 512)
        self.control = .allocate(byteCount: 128, alignment: 8)
        self.readBuffer = ByteBufferAllocator().buffer(capacity: Self.readSize)
    }

    deinit {
        for connection in self.connections.values { connection.closeDescriptor() }
        Glibc.close(self.epoll)
        self.events.deallocate()
        self.control.deallocate()
    }

    var controlBuffer: UnsafeMutableRawBufferPointer { self.control }

    /// Registers `connection`'s descriptor for readability, and writability while `wantsWrite`.
    func register(_ connection: TickConnection, wantsWrite: Bool) throws {
        try self.control(EPOLL_CTL_ADD, connection, wantsWrite: wantsWrite)
        self.connections[connection.descriptor] = connection
    }

    func update(_ connection: TickConnection, wantsWrite: Bool) throws {
        try self.control(EPOLL_CTL_MOD, connection, wantsWrite: wantsWrite)
    }

    private func control(_ operation: Int32, _ connection: TickConnection, wantsWrite: Bool) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (wantsWrite ? EPOLLOUT.rawValue : 0)
        event.data.fd = connection.descriptor
        guard epoll_ctl(self.epoll, operation, connection.descriptor, &event) == 0 else {
            throw IOError(errnoCode: errno, reason: "epoll_ctl")
        }
    }

    /// Forgets `connection`; closing its descriptor takes it out of the epoll set.
    func remove(_ connection: TickConnection) {
        if self.connections[connection.descriptor] === connection {
            self.connections[connection.descriptor] = nil
        }
    }

    /// Handles every descriptor that is ready now, without blocking: connects that completed, responses that arrived
    /// (delivered with their receive time), closes and errors.
    func poll() {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        self.pollTime = nowNanos()
        self.realtimeOffset = self.pollTime - (Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
        while true {
            let n = epoll_wait(self.epoll, self.events.baseAddress, Int32(self.events.count), 0)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for i in 0..<Int(n) {
                let event = self.events[i]
                guard let connection = self.connections[event.data.fd] else { continue }
                connection.ready(events: event.events)
            }
            if n < Int32(self.events.count) { return }
        }
    }

    /// Fails the connects that have been pending past their deadline.
    func expireConnects(now: Int64) {
        for connection in self.connections.values where connection.connectExpired(now: now) {
            connection.connectTimedOut()
        }
    }
}
#endif
