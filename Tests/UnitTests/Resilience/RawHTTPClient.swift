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

    static func exchangeSync(
        port: Int,
        chunks: [[UInt8]],
        delayMicroseconds: UInt32,
        halfClose: Bool,
        readTimeoutMilliseconds: Int,
        isHead: Bool
    ) throws -> Result {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ConnectError(errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ConnectError(errno: errno) }
        var noDelay: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))

        var result = Result()
        let deadline = ContinuousClock.now + .milliseconds(readTimeoutMilliseconds)
        sending: for (index, chunk) in chunks.enumerated() {
            if index > 0 && delayMicroseconds > 0 { usleep(delayMicroseconds) }
            var offset = 0
            while offset < chunk.count {
                if ContinuousClock.now > deadline { result.timedOut = true; break sending }
                let sent = chunk.withUnsafeBytes { raw in
                    send(fd, raw.baseAddress! + offset, chunk.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 {
                    result.sendFailed = true
                    break sending
                }
                offset += sent
            }
        }
        if halfClose { _ = shutdown(fd, Int32(SHUT_WR)) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let complete = parse(received, isHead: isHead) {
                result.status = complete.status
                result.headers = complete.headers
                result.body = complete.body
                return result
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                result.timedOut = true
                break
            }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = max(1, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
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
        return result
    }

    private struct Head {
        var status: Int
        var headers: [(String, String)]
        var bodyStart: Int
    }

    private static func parseHead(_ bytes: [UInt8]) -> Head? {
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

    private static func parse(_ bytes: [UInt8], isHead: Bool) -> (status: Int, headers: [(String, String)], body: [UInt8])? {
        guard let head = parseHead(bytes) else { return nil }
        let bodyBytes = Array(bytes[head.bodyStart...])
        if isHead || head.status == 204 || head.status == 304 || (100...199).contains(head.status) {
            return (head.status, head.headers, [])
        }
        if let lengthText = head.headers.first(where: { $0.0.lowercased() == "content-length" })?.1,
            let length = Int(lengthText)
        {
            guard bodyBytes.count >= length else { return nil }
            return (head.status, head.headers, Array(bodyBytes.prefix(length)))
        }
        if head.headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            return decodeChunked(bodyBytes).map { (head.status, head.headers, $0) }
        }
        return nil  // read until close
    }

    private static func decodeChunked(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 })
            else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            let start = lineEnd + 2
            if size == 0 { return bytes.count >= start + 2 ? body : nil }
            guard bytes.count >= start + size + 2 else { return nil }
            body += bytes[start..<(start + size)]
            index = start + size + 2
        }
    }
}
