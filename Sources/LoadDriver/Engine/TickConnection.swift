#if os(Linux)
import CEpoll
import Glibc
import NIOCore

/// A paced user's connection on a plain non-blocking socket in its worker's ``TickPoller``: written at once, read when
/// the worker polls on its tick. Same contract as ``UserConnectionHandler``; confined to the worker's event loop.
final class TickConnection: UserConnection {
    private enum State {
        case connecting(deadline: Int64, timeout: TimeAmount)
        case open
        case closed
    }

    let descriptor: Int32
    private unowned let poller: TickPoller
    private let user: VirtualUser
    private var state: State
    private var parser = HTTPResponseParser()
    /// The part of a request the socket did not take at once; sent when it becomes writable.
    private var unsent: ByteBuffer?
    private var lastError: (any Error)?

    /// `SO_TIMESTAMPNS` (Linux's asm-generic and x86 value; `SCM_TIMESTAMPNS` is the same number).
    private static let timestampOption: Int32 = 35

    /// Starts a non-blocking connect to `address`, or throws when it cannot start; the user hears of the outcome
    /// through `connected(_:)` or `connectFailed(_:)` at a later poll.
    static func connect(user: VirtualUser, to address: SocketAddress, timeout: TimeAmount, poller: TickPoller) throws -> TickConnection {
        let domain: Int32
        switch address {
        case .v4: domain = AF_INET
        case .v6: domain = AF_INET6
        default: throw IOError(errnoCode: EAFNOSUPPORT, reason: "socket")
        }
        let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, Self.timestampOption, &one, socklen_t(MemoryLayout<Int32>.size))
        let connectErrno = address.withSockAddr { pointer, length in
            Glibc.connect(fd, pointer, socklen_t(length)) == 0 ? 0 : errno
        }
        if connectErrno != 0 && connectErrno != EINPROGRESS {
            let error = IOError(errnoCode: connectErrno, reason: "connect")
            Glibc.close(fd)
            throw error
        }
        let connection = TickConnection(
            descriptor: fd, poller: poller, user: user, state: .connecting(deadline: nowNanos() + timeout.nanoseconds, timeout: timeout))
        do {
            try poller.register(connection, wantsWrite: true)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return connection
    }

    private init(descriptor: Int32, poller: TickPoller, user: VirtualUser, state: State) {
        self.descriptor = descriptor
        self.poller = poller
        self.user = user
        self.state = state
    }

    var allocator: ByteBufferAllocator { ByteBufferAllocator() }

    func send(_ request: ByteBuffer, isHEAD: Bool, collectBody: Bool) {
        guard case .open = self.state else { return }
        self.parser.expect(isHEAD: isHEAD, collectBody: collectBody)
        if var unsent = self.unsent {
            var request = request
            unsent.writeBuffer(&request)
            self.unsent = unsent
            return
        }
        self.write(request)
    }

    private func write(_ bytes: ByteBuffer) {
        var writeErrno: Int32 = 0
        let written = bytes.withUnsafeReadableBytes { pointer -> Int in
            let n = Glibc.write(self.descriptor, pointer.baseAddress, pointer.count)
            if n < 0 { writeErrno = errno }
            return n
        }
        if written == bytes.readableBytes {
            if self.unsent != nil {
                self.unsent = nil
                self.updateInterest(wantsWrite: false)
            }
            return
        }
        if written < 0 && writeErrno != EAGAIN && writeErrno != EWOULDBLOCK {
            self.fail(IOError(errnoCode: writeErrno, reason: "write"))
            return
        }
        var rest = bytes
        rest.moveReaderIndex(forwardBy: max(0, written))
        let wasWaiting = self.unsent != nil
        self.unsent = rest
        if !wasWaiting { self.updateInterest(wantsWrite: true) }
    }

    private func updateInterest(wantsWrite: Bool) {
        do {
            try self.poller.update(self, wantsWrite: wantsWrite)
        } catch {
            self.fail(error)
        }
    }

    func close() {
        self.closeWith(error: self.lastError)
    }

    /// The poller's teardown: the descriptor only, nobody told.
    func closeDescriptor() {
        guard !self.isClosed else { return }
        self.state = .closed
        Glibc.close(self.descriptor)
    }

    private var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    private func closeWith(error: (any Error)?) {
        guard !self.isClosed else { return }
        let wasConnecting: Bool
        if case .connecting = self.state { wasConnecting = true } else { wasConnecting = false }
        self.state = .closed
        self.poller.remove(self)
        Glibc.close(self.descriptor)
        if wasConnecting {
            self.user.connectFailed(error ?? ChannelError.alreadyClosed)
        } else {
            self.user.connectionClosed(self, error: error)
        }
    }

    private func fail(_ error: any Error) {
        if self.lastError == nil { self.lastError = error }
        self.closeWith(error: self.lastError)
    }

    func connectExpired(now: Int64) -> Bool {
        if case .connecting(let deadline, _) = self.state { return now >= deadline }
        return false
    }

    func connectTimedOut() {
        guard case .connecting(_, let timeout) = self.state else { return }
        self.fail(ChannelError.connectTimeout(timeout))
    }

    /// Called by the poller with the epoll events of this descriptor.
    func ready(events: UInt32) {
        switch self.state {
        case .closed:
            return
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(self.descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
            if error != 0 {
                self.fail(IOError(errnoCode: error, reason: "connect"))
                return
            }
            guard events & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 else { return }
            self.state = .open
            self.updateInterest(wantsWrite: false)
            guard !self.isClosed else { return }
            self.user.connected(self)
        case .open:
            if events & EPOLLOUT.rawValue != 0, let unsent = self.unsent {
                self.write(unsent)
                guard !self.isClosed else { return }
            }
            if events & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                self.readAvailable()
            }
        }
    }

    private func readAvailable() {
        while case .open = self.state {
            var received = 0
            var readErrno: Int32 = 0
            var timestamp: Int64 = 0
            let control = self.poller.controlBuffer
            // Read into the poller's buffer in place (it stays uniquely referenced, so no copy).
            self.poller.readBuffer.clear()
            self.poller.readBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: TickPoller.readSize) { pointer -> Int in
                var iov = iovec(iov_base: pointer.baseAddress, iov_len: pointer.count)
                return withUnsafeMutablePointer(to: &iov) { iovPointer -> Int in
                    var message = msghdr()
                    message.msg_iov = iovPointer
                    message.msg_iovlen = 1
                    message.msg_control = control.baseAddress
                    message.msg_controllen = control.count
                    let n = recvmsg(self.descriptor, &message, 0)
                    if n > 0 {
                        timestamp = Self.receiveTimestamp(control, length: Int(message.msg_controllen))
                    } else if n < 0 {
                        readErrno = errno
                    }
                    received = n
                    return max(0, n)
                }
            }
            if received < 0 {
                if readErrno == EINTR { continue }
                if readErrno == EAGAIN || readErrno == EWOULDBLOCK { return }
                self.fail(IOError(errnoCode: readErrno, reason: "read"))
                return
            }
            if received == 0 {
                self.peerClosed()
                return
            }
            let at = timestamp > 0
                ? min(max(timestamp + self.poller.realtimeOffset, 0), self.poller.pollTime) : self.poller.pollTime
            do {
                while let response = try self.parser.feed(&self.poller.readBuffer) {
                    self.user.responseReceived(
                        status: response.status, body: response.body, connectionWillClose: !response.keepAlive, at: at)
                    if !response.keepAlive {
                        self.closeWith(error: nil)
                        return
                    }
                    guard case .open = self.state else { return }
                }
            } catch {
                self.fail(error)
                return
            }
            if received < TickPoller.readSize { return }
        }
    }

    /// End of stream: a body delimited by the close is complete now; a response cut short is an error.
    private func peerClosed() {
        do {
            if let response = try self.parser.connectionClosed() {
                self.user.responseReceived(
                    status: response.status, body: response.body, connectionWillClose: true, at: self.poller.pollTime)
            }
        } catch {
            if self.lastError == nil { self.lastError = error }
        }
        self.closeWith(error: self.lastError)
    }

    /// The `SCM_TIMESTAMPNS` value (CLOCK_REALTIME ns) among `length` bytes of ancillary data, or 0.
    private static func receiveTimestamp(_ control: UnsafeMutableRawBufferPointer, length: Int) -> Int64 {
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data, 8-byte aligned.
        let header = MemoryLayout<Int>.size + 2 * MemoryLayout<Int32>.size
        var offset = 0
        while offset + header <= length {
            let base = control.baseAddress! + offset
            let cmsgLength = base.loadUnaligned(as: Int.self)
            let level = base.loadUnaligned(fromByteOffset: MemoryLayout<Int>.size, as: Int32.self)
            let type = base.loadUnaligned(fromByteOffset: MemoryLayout<Int>.size + 4, as: Int32.self)
            guard cmsgLength >= header else { return 0 }
            if level == SOL_SOCKET, type == Self.timestampOption, cmsgLength >= header + 16 {
                let seconds = base.loadUnaligned(fromByteOffset: header, as: Int64.self)
                let nanos = base.loadUnaligned(fromByteOffset: header + 8, as: Int64.self)
                return seconds * 1_000_000_000 + nanos
            }
            offset += (cmsgLength + 7) & ~7
        }
        return 0
    }
}
#endif
