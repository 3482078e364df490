#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP connection to a loopback port, for the probe's one-request-at-a-time traffic. Runs on the probe's
/// own thread (an `NIOThreadPool` thread), never on an event loop or a Swift concurrency thread.
final class BlockingSocket {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(port: Int) throws(ProbeError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw ProbeError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws(ProbeError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw ProbeError("write failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads until `delimiter` and returns the bytes before it (the delimiter is consumed).
    func read(until delimiter: [UInt8]) throws(ProbeError) -> ArraySlice<UInt8> {
        while true {
            if let end = find(delimiter) {
                let line = buffer[start..<end]
                start = end + delimiter.count
                return line
            }
            try fill()
        }
    }

    /// Reads exactly `count` bytes.
    func read(count: Int) throws(ProbeError) -> ArraySlice<UInt8> {
        while buffer.count - start < count { try fill() }
        let bytes = buffer[start..<start + count]
        start += count
        return bytes
    }

    private func find(_ delimiter: [UInt8]) -> Int? {
        guard buffer.count - start >= delimiter.count else { return nil }
        var i = start
        while i <= buffer.count - delimiter.count {
            if buffer[i] == delimiter[0] {
                var match = true
                for j in 1..<delimiter.count where buffer[i + j] != delimiter[j] {
                    match = false
                    break
                }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    private func fill() throws(ProbeError) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ProbeError(n == 0 ? "connection closed by the peer" : "read failed: errno \(errno)") }
        buffer.append(contentsOf: chunk[0..<n])
    }
}

/// A probe failure: what went wrong, for the CLI's message.
struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
