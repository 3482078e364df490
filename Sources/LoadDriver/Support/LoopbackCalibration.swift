import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A gauge of this machine's speed at what a loopback load test mostly does: moving small messages through the
/// kernel's loopback TCP. One connection on 127.0.0.1, both ends in one dedicated thread, a 1-byte ping-pong for a
/// fixed time; the figure is round trips per second (each one two `write`s, two `read`s and two loopback deliveries).
///
/// Measured before the load, while the target is idle, it tells runners apart: a result from a machine that does half
/// the round trips of the baseline's is not comparable with it. On the 2-core reference machine twelve 0.5-1 s
/// measurements within two minutes read 57,800-73,500 round trips/s (a spread of 1.27x); the same hour,
/// `redis-benchmark -t get -c 50` did 49,000-59,000 GETs/s there and `wrk -t1 -c100` 18,300-20,300 req/s against a
/// Hummingbird hello server.
///
/// It blocks only its own thread (never an event loop or a Swift concurrency thread) and always ends: the duration is
/// capped at 5 s and every read times out after 1 s.
public enum LoopbackCalibration {
    /// Round trips per second over `seconds` (capped at 5 s), or `nil` when the loopback socket could not be set up.
    public static func measure(seconds: Double) async -> Double? {
        let duration = seconds.isFinite ? min(max(seconds, 0.01), 5) : 0.5
        return await withCheckedContinuation { (continuation: CheckedContinuation<Double?, Never>) in
            let thread = Thread { continuation.resume(returning: Self.pingPong(seconds: duration)) }
            thread.name = "loopback-calibration"
            thread.start()
        }
    }

    private static func pingPong(seconds: Double) -> Double? {
        guard let (client, server) = connectedPair() else { return nil }
        defer {
            close(client)
            close(server)
        }
        // Both ends in this one thread: every read finds its byte already delivered, so the figure is the kernel's
        // send and receive path, free of where the scheduler happened to place two threads (which moved a two-thread
        // ping-pong 1.4x between runs a minute apart).
        var byte: UInt8 = 1
        var roundTrips = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        var now = start
        while now < deadline {
            guard write(client, &byte, 1) == 1, read(server, &byte, 1) == 1,
                write(server, &byte, 1) == 1, read(client, &byte, 1) == 1
            else { return nil }
            roundTrips += 1
            if roundTrips % 64 == 0 { now = DispatchTime.now().uptimeNanoseconds }
        }
        now = DispatchTime.now().uptimeNanoseconds
        return Double(roundTrips) / (Double(now - start) / 1e9)
    }

    /// A connected TCP pair on 127.0.0.1 (client, accepted server side), Nagle off, 1 s read timeouts.
    private static func connectedPair() -> (Int32, Int32)? {
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let listener = socket(AF_INET, stream, 0)
        guard listener >= 0 else { return nil }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { return nil }
        let client = socket(AF_INET, stream, 0)
        guard client >= 0 else { return nil }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
        }
        let server = connected ? accept(listener, nil, nil) : -1
        guard server >= 0 else {
            close(client)
            return nil
        }
        for fd in [client, server] {
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        return (client, server)
    }
}
