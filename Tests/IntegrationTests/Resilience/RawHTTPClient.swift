#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOPosix

/// A blocking POSIX-socket HTTP/1.1 client for byte-exact hostile requests (lying Content-Length, header floods,
/// one byte at a time). Every wait is bounded by `readTimeout`; it never hangs. Runs on a thread pool, not on the
/// cooperative pool.
enum RawHTTPClient {
    struct Result: Sendable, CustomStringConvertible {
        /// Status code of the first response, `nil` when none arrived.
        var status: Int?
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// The peer closed the connection (EOF or reset) before or after answering.
        var closedByPeer = false
        /// Our read deadline passed without a complete response.
        var timedOut = false
        /// A send failed (the server closed early, e.g. after answering 413 or rejecting headers).
        var sendFailed = false

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        var description: String {
            "status=\(status.map(String.init) ?? "none") closed=\(closedByPeer) timedOut=\(timedOut) "
                + "sendFailed=\(sendFailed) body=\(String(decoding: body.prefix(200), as: UTF8.self))"
        }
    }

    struct ConnectError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "connect failed: errno \(errno)" }
    }

    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 10)
        pool.start()
        return pool
    }()

    /// Sends `chunks` (sleeping `delayMicroseconds` between them), optionally half-closes, then reads one response.
    static func exchange(
        port: Int,
        chunks: [[UInt8]],
        delayMicroseconds: UInt32 = 0,
        halfClose: Bool = false,
        readTimeoutMilliseconds: Int = 5_000,
        isHead: Bool = false
    ) async throws -> Result {
        try await pool.runIfActive {
            try exchangeSync(
                port: port, chunks: chunks, delayMicroseconds: delayMicroseconds, halfClose: halfClose,
                readTimeoutMilliseconds: readTimeoutMilliseconds, isHead: isHead)
        }
    }

    static func exchange(port: Int, _ request: String, readTimeoutMilliseconds: Int = 5_000) async throws -> Result {
        try await exchange(port: port, chunks: [Array(request.utf8)], readTimeoutMilliseconds: readTimeoutMilliseconds)
    }

    /// One request of a keep-alive sequence.
    struct SequencedRequest: Sendable {
        var bytes: [UInt8]
        var isHead = false
    }

    /// Sends `requests` one after another on ONE connection, reading each response before sending the next. Stops
    /// after the first request that gets no complete response (closed, send failed or timed out: that result is the
    /// last one returned) or a response with `Connection: close`, so `results.count < requests.count` means the rest
    /// were never sent. Each request's send and read is bounded by `readTimeoutMilliseconds`.
    static func exchangeSequence(
        port: Int,
        _ requests: [SequencedRequest],
        readTimeoutMilliseconds: Int = 5_000
    ) async throws -> [Result] {
        try await pool.runIfActive {
            let connection = try Connection(port: port)
            defer { connection.disconnect() }
            var results: [Result] = []
            for request in requests {
                var result = Result()
                let deadline = ContinuousClock.now + .milliseconds(readTimeoutMilliseconds)
                connection.sendChunks([request.bytes], delayMicroseconds: 0, deadline: deadline, into: &result)
                connection.readResponse(isHead: request.isHead, deadline: deadline, into: &result)
                results.append(result)
                let complete = result.status != nil && !result.closedByPeer && !result.timedOut && !result.sendFailed
                if !complete || result.header("Connection")?.lowercased() == "close" { break }
            }
            return results
        }
    }

    static func exchangeSync(
        port: Int,
        chunks: [[UInt8]],
        delayMicroseconds: UInt32,
        halfClose: Bool,
        readTimeoutMilliseconds: Int,
        isHead: Bool
    ) throws -> Result {
        let connection = try Connection(port: port)
        defer { connection.disconnect() }
        var result = Result()
        let deadline = ContinuousClock.now + .milliseconds(readTimeoutMilliseconds)
        connection.sendChunks(chunks, delayMicroseconds: delayMicroseconds, deadline: deadline, into: &result)
        if halfClose { _ = shutdown(connection.fd, Int32(SHUT_WR)) }
        connection.readResponse(isHead: isHead, deadline: deadline, into: &result)
        return result
    }

    /// A blocking loopback TCP connection; bytes read past one response stay buffered for the next.
    final class Connection {
        let fd: Int32
        private var received: [UInt8] = []

        init(port: Int) throws {
            #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw ConnectError(errno: errno) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                let error = ConnectError(errno: errno)
                close(fd)
                throw error
            }
            var noDelay: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            self.fd = fd
        }

        func disconnect() { _ = close(fd) }

        func sendChunks(_ chunks: [[UInt8]], delayMicroseconds: UInt32, deadline: ContinuousClock.Instant, into result: inout Result) {
            for (index, chunk) in chunks.enumerated() {
                if index > 0 && delayMicroseconds > 0 { usleep(delayMicroseconds) }
                var offset = 0
                while offset < chunk.count {
                    if ContinuousClock.now > deadline {
                        result.timedOut = true
                        return
                    }
                    let sent = chunk.withUnsafeBytes { raw in
                        send(fd, raw.baseAddress! + offset, chunk.count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if sent <= 0 {
                        result.sendFailed = true
                        return
                    }
                    offset += sent
                }
            }
        }

        /// Reads one response (or what arrived of it before EOF/the deadline) into `result`.
        func readResponse(isHead: Bool, deadline: ContinuousClock.Instant, into result: inout Result) {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                if let complete = parse(received, isHead: isHead) {
                    result.status = complete.status
                    result.headers = complete.headers
                    result.body = complete.body
                    received.removeFirst(complete.consumed)
                    return
                }
                let remaining = deadline - ContinuousClock.now
                if remaining <= .zero {
                    result.timedOut = true
                    break
                }
                let milliseconds = max(1, Int32(clamping: Int64(remaining / .milliseconds(1))))
                var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pollFD, 1, milliseconds)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { continue }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if count <= 0 {
                    result.closedByPeer = true
                    break
                }
                received += buffer[0..<count]
            }
            // Incomplete: report what we have (a head without its full body still has a status).
            if let head = parseHead(received) {
                result.status = head.status
                result.headers = head.headers
                result.body = Array(received[head.bodyStart...])
            }
            received = []
        }
    }

    fileprivate struct Head {
        var status: Int
        var headers: [(String, String)]
        var bodyStart: Int
    }

    fileprivate static func parseHead(_ bytes: [UInt8]) -> Head? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        var end: Int?
        for index in 0...(bytes.count - 4) where bytes[index..<(index + 4)].elementsEqual(separator) {
            end = index
            break
        }
        guard let end else { return nil }
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Head(status: status, headers: headers, bodyStart: end + 4)
    }

    /// A complete response at the start of `bytes` and how many bytes it took, `nil` while incomplete.
    fileprivate static func parse(
        _ bytes: [UInt8], isHead: Bool
    ) -> (status: Int, headers: [(String, String)], body: [UInt8], consumed: Int)? {
        guard let head = parseHead(bytes) else { return nil }
        let bodyBytes = Array(bytes[head.bodyStart...])
        if isHead || head.status == 204 || head.status == 304 || (100...199).contains(head.status) {
            return (head.status, head.headers, [], head.bodyStart)
        }
        if let lengthText = head.headers.first(where: { $0.0.lowercased() == "content-length" })?.1,
            let length = Int(lengthText)
        {
            guard bodyBytes.count >= length else { return nil }
            return (head.status, head.headers, Array(bodyBytes.prefix(length)), head.bodyStart + length)
        }
        if head.headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            return decodeChunked(bodyBytes).map { (head.status, head.headers, $0.body, head.bodyStart + $0.consumed) }
        }
        return nil  // read until close
    }

    private static func decodeChunked(_ bytes: [UInt8]) -> (body: [UInt8], consumed: Int)? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 })
            else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            let start = lineEnd + 2
            if size == 0 { return bytes.count >= start + 2 ? (body, start + 2) : nil }
            guard bytes.count >= start + size + 2 else { return nil }
            body += bytes[start..<(start + size)]
            index = start + size + 2
        }
    }
}
