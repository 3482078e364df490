import NIOCore

/// One complete HTTP/1.1 response, as produced by ``HTTPResponseParser``.
package struct HTTPResponse: Sendable, Equatable {
    /// The three-digit status code of the final response (never a 1xx interim one, except `101`).
    package var status: Int
    /// `false` when the server will close after this response: `Connection: close`, or HTTP/1.0 without
    /// `Connection: keep-alive`, or a read-until-close body, or `101 Switching Protocols`.
    package var keepAlive: Bool
    /// The body, only when the parser was told to collect it (`nil` otherwise). When collecting, a response without
    /// a body (HEAD, 204, 304, `Content-Length: 0`, …) has an empty buffer. Chunked bodies are de-chunked.
    package var body: ByteBuffer?

    /// Creates a response.
    package init(status: Int, keepAlive: Bool, body: ByteBuffer?) {
        self.status = status
        self.keepAlive = keepAlive
        self.body = body
    }
}

/// Malformed or unacceptable response bytes; the connection cannot be used any more.
package struct HTTPResponseParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Short, human-readable reason, e.g. `invalid status line` or `connection closed mid-response`.
    package var message: String

    /// Creates an error with `message`.
    package init(message: String) {
        self.message = message
    }

    package var description: String { self.message }
}

/// An incremental HTTP/1.1 response parser (RFC 9112) for a client connection with at most one request in flight.
///
/// Feed it every inbound `ByteBuffer`; it returns each response once complete. It works on bytes only (no `String`
/// on the hot path), skips bodies it is not asked to collect without copying them, and buffers only incomplete
/// protocol elements (a partial header section, chunk-size line or trailer line), each of bounded size.
///
/// Framing, in RFC 9112 section 6.3 order: no body for a HEAD request or status 1xx/204/304; otherwise
/// `Transfer-Encoding` whose last coding is `chunked` (winning over `Content-Length`); otherwise a
/// `Transfer-Encoding` without final `chunked`, which means read-until-close; otherwise `Content-Length`;
/// otherwise read-until-close. Interim 1xx responses are skipped; `101` ends the HTTP stream.
///
/// Lenient where it is harmless: bare LF line endings, an empty or missing reason phrase, blank lines before a
/// status line, obsolete line folding, whitespace after a chunk size. Strict where framing depends on it:
/// status code, `Content-Length`, chunk sizes and chunk terminators.
///
/// After a response with `keepAlive == false` the parser is finished: the connection must be closed, later bytes
/// are ignored and ``connectionClosed()`` returns `nil`. After a thrown error the parser is finished as well:
/// ``feed(_:)`` throws the same error again and ``connectionClosed()`` returns `nil`.
package struct HTTPResponseParser {
    /// Longest accepted chunk-size line (size, extensions and line ending).
    package static let maximumChunkSizeLineBytes = 1024

    private enum State {
        /// Before a status line (also after an interim 1xx response).
        case statusLine
        case headerLine
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// After a chunk's data: expecting CRLF (or LF); `sawCR` once the CR was read.
        case chunkDataEnd(sawCR: Bool)
        case trailerLine
        case untilClose
        /// After a `keepAlive == false` response or an error: nothing more is parsed.
        case finished
    }

    /// The header field whose value an obs-fold continuation line would extend.
    private enum Field {
        case noField
        case other
        case contentLength
        case transferEncoding
        case connection
    }

    /// What the header section of the current response said so far.
    private struct Head {
        var status = 0
        var isHTTP10 = false
        var contentLength: Int? = nil
        var hasTransferEncoding = false
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var lastField = Field.noField
    }

    private let maximumHeaderBytes: Int
    private var state = State.statusLine
    private var head = Head()
    /// Bytes of the current header (or trailer) section consumed so far, for the size limit.
    private var sectionBytes = 0
    /// An interim 1xx response was received for the current request (so the response has started).
    private var sawInterim = false
    private var keepAlive = true
    private var body: ByteBuffer? = nil
    /// Unconsumed bytes received so far (an incomplete line, or the start of a later response); nil when none.
    private var pending: ByteBuffer? = nil
    /// How many of the pending bytes were already searched for a line feed, so a line arriving in pieces is
    /// scanned once.
    private var scanned = 0
    private var failure: HTTPResponseParseError? = nil
    private var isHEAD = false
    private var collectBody = false

    /// Creates a parser; a header section (status line, fields and the empty line) larger than `maximumHeaderBytes`
    /// is an error, and so is a trailer section larger than that.
    package init(maximumHeaderBytes: Int = 64 * 1024) {
        self.maximumHeaderBytes = max(maximumHeaderBytes, 1)
    }

    /// Called before each request is written. `isHEAD`: the response has no body whatever its headers say.
    /// `collectBody`: keep the body bytes in ``HTTPResponse/body``. The flags stay in effect until the next call.
    package mutating func expect(isHEAD: Bool, collectBody: Bool) {
        self.isHEAD = isHEAD
        self.collectBody = collectBody
    }

    /// Feeds newly received bytes. Consumes `buffer` entirely; bytes belonging to a later response stay inside the
    /// parser, and a later call (even with an empty buffer) returns that response once it is complete.
    /// Returns the response once it is complete, else `nil`.
    /// Throws ``HTTPResponseParseError`` on malformed input (the caller then closes the connection).
    package mutating func feed(_ buffer: inout ByteBuffer) throws -> HTTPResponse? {
        if let failure = self.failure {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw failure
        }
        var bytes: ByteBuffer
        if var pending = self.pending {
            self.pending = nil
            if buffer.readableBytes > 0 {
                // Keep the unconsumed bytes at the front so the buffer cannot grow with already-parsed bytes.
                if pending.readerIndex > 0 { pending.discardReadBytes() }
                pending.writeBuffer(&buffer)
            }
            bytes = pending
        } else {
            bytes = buffer
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        return try self.run(&bytes)
    }

    /// The peer closed the connection. Returns the response if a read-until-close body was in progress (it is
    /// complete now); throws "connection closed mid-response" if a response had started but was not complete;
    /// returns `nil` if nothing was in progress.
    package mutating func connectionClosed() throws -> HTTPResponse? {
        if self.failure != nil { return nil }
        // Bytes received but not parsed yet (the caller did not feed an empty buffer after a response).
        if var bytes = self.pending {
            self.pending = nil
            if let response = try self.run(&bytes) { return response }
        }
        switch self.state {
        case .finished:
            return nil
        case .untilClose:
            return self.complete()
        case .statusLine where !self.sawInterim && Self.holdsOnlyLineBreaks(self.pending):
            // Nothing started (at most stray line breaks after the last response).
            return nil
        default:
            throw self.fail("connection closed mid-response")
        }
    }

    // MARK: - State machine

    /// Parses as much of `bytes` as possible, keeping what is left in `pending`.
    private mutating func run(_ bytes: inout ByteBuffer) throws -> HTTPResponse? {
        defer {
            if bytes.readableBytes > 0, case .finished = self.state {
                bytes.moveReaderIndex(to: bytes.writerIndex)
            }
            self.pending = bytes.readableBytes > 0 ? bytes : nil
        }
        do {
            return try self.parse(&bytes)
        } catch let error as HTTPResponseParseError {
            throw self.fail(error.message)
        }
    }

    private mutating func parse(_ bytes: inout ByteBuffer) throws -> HTTPResponse? {
        while true {
            switch self.state {
            case .fixedBody(let remaining):
                let count = min(remaining, bytes.readableBytes)
                guard count > 0 else { return nil }
                self.takeBody(&bytes, count: count)
                if count == remaining { return self.complete() }
                self.state = .fixedBody(remaining: remaining - count)
                return nil

            case .chunkData(let remaining):
                let count = min(remaining, bytes.readableBytes)
                guard count > 0 else { return nil }
                self.takeBody(&bytes, count: count)
                self.state = count == remaining ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - count)

            case .untilClose:
                let count = bytes.readableBytes
                guard count > 0 else { return nil }
                self.takeBody(&bytes, count: count)
                return nil

            case .finished:
                return nil

            case .statusLine, .headerLine, .chunkSize, .chunkDataEnd, .trailerLine:
                // All line-based states in one pass over the bytes (one storage access, however many lines).
                let (consumed, outcome) = try bytes.withUnsafeReadableBytes { raw in try self.parseLines(raw) }
                bytes.moveReaderIndex(forwardBy: consumed)
                switch outcome {
                case .needMoreBytes: return nil
                case .body: continue
                case .complete(let response): return response
                }
            }
        }
    }

    private enum LinesOutcome {
        /// All bytes up to `consumed` were parsed; the rest is an incomplete line.
        case needMoreBytes
        /// The state is now a body state; body bytes start at `consumed`.
        case body
        /// A response is complete; the next one starts at `consumed`.
        case complete(HTTPResponse)
    }

    /// Parses lines (status line, header fields, chunk sizes, chunk terminators, trailer fields) from `raw` while
    /// the state is line-based. Returns how many bytes were consumed and why it stopped.
    private mutating func parseLines(_ raw: UnsafeRawBufferPointer) throws -> (consumed: Int, outcome: LinesOutcome) {
        var start = 0
        while true {
            let available = raw.count - start
            switch self.state {
            case .chunkDataEnd(let sawCR):
                guard available > 0 else { return (start, .needMoreBytes) }
                let byte = raw[start]
                start += 1
                if byte == .lineFeed {
                    self.state = .chunkSize
                } else if byte == .carriageReturn, !sawCR {
                    self.state = .chunkDataEnd(sawCR: true)
                } else {
                    throw HTTPResponseParseError(message: "invalid chunk data terminator")
                }
                continue
            case .statusLine, .headerLine, .chunkSize, .trailerLine:
                break
            case .fixedBody, .chunkData, .untilClose, .finished:
                return (start, .body)
            }

            // Find the end of the next line within what is left of the size limit; bytes already searched on an
            // earlier call (the line arrived in pieces) are not searched again.
            let allowance: Int
            if case .chunkSize = self.state {
                allowance = Self.maximumChunkSizeLineBytes
            } else {
                allowance = self.maximumHeaderBytes - self.sectionBytes
            }
            let end = start + min(available, allowance)
            let searchFrom = start + self.scanned
            guard searchFrom < end, let lineFeed = Self.firstLineFeed(raw, from: searchFrom, to: end) else {
                if available >= allowance { throw self.lineTooLong() }
                self.scanned = end - start
                return (start, .needMoreBytes)
            }
            let contentEnd = lineFeed > start && raw[lineFeed - 1] == .carriageReturn ? lineFeed - 1 : lineFeed
            let line = UnsafeRawBufferPointer(rebasing: raw[start..<contentEnd])
            self.sectionBytes += lineFeed + 1 - start
            self.scanned = 0
            start = lineFeed + 1

            switch self.state {
            case .statusLine:
                // A blank line before the status line is ignored (it still counts toward the size limit).
                guard !line.isEmpty else { continue }
                let parsed = try Self.parseStatusLine(line)
                self.head.status = parsed.status
                self.head.isHTTP10 = parsed.isHTTP10
                self.state = .headerLine
            case .headerLine:
                if line.isEmpty {
                    if let response = self.headComplete() { return (start, .complete(response)) }
                } else {
                    try Self.parseField(line, into: &self.head)
                }
            case .chunkSize:
                let size = try Self.parseChunkSize(line)
                if size == 0 {
                    self.sectionBytes = 0
                    self.state = .trailerLine
                } else {
                    self.state = .chunkData(remaining: size)
                }
            case .trailerLine:
                if line.isEmpty { return (start, .complete(self.complete())) }
                // Trailer fields are validated but not interpreted; a folded line continues the previous one.
                if !Self.isWhitespace(line[0]) { _ = try Self.fieldNameEnd(line) }
            case .chunkDataEnd, .fixedBody, .chunkData, .untilClose, .finished:
                preconditionFailure("not a line state")
            }
        }
    }

    private func lineTooLong() -> HTTPResponseParseError {
        switch self.state {
        case .chunkSize:
            return HTTPResponseParseError(message: "chunk-size line over \(Self.maximumChunkSizeLineBytes) bytes")
        case .trailerLine:
            return HTTPResponseParseError(message: "trailer section over \(self.maximumHeaderBytes) bytes")
        default:
            return HTTPResponseParseError(message: "header section over \(self.maximumHeaderBytes) bytes")
        }
    }

    /// The empty line ending a header section was consumed: decide the framing of the body.
    /// Returns the response when it has no body (or ends the stream), `nil` when a body or another response follows.
    private mutating func headComplete() -> HTTPResponse? {
        let head = self.head
        if head.status < 200 {
            if head.status == 101 {
                // Switching Protocols: what follows is not HTTP/1.1 any more.
                self.keepAlive = false
                return self.complete()
            }
            // Interim response (100 Continue, 103 Early Hints, ...): the final response follows.
            self.head = Head()
            self.sectionBytes = 0
            self.sawInterim = true
            self.state = .statusLine
            return nil
        }
        var keepAlive = head.isHTTP10 ? head.connectionKeepAlive && !head.connectionClose : !head.connectionClose
        // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty; close afterwards.
        if head.isHTTP10 && head.hasTransferEncoding { keepAlive = false }
        self.keepAlive = keepAlive
        self.sectionBytes = 0
        if self.isHEAD || head.status == 204 || head.status == 304 {
            return self.complete()
        }
        if head.hasTransferEncoding {
            if head.chunked {
                self.state = .chunkSize
            } else {
                self.keepAlive = false
                self.state = .untilClose
            }
            return nil
        }
        if let length = head.contentLength {
            if length == 0 { return self.complete() }
            self.state = .fixedBody(remaining: length)
            return nil
        }
        self.keepAlive = false
        self.state = .untilClose
        return nil
    }

    /// Builds the finished response and resets for the next one.
    private mutating func complete() -> HTTPResponse {
        let body: ByteBuffer? = self.collectBody ? (self.body ?? ByteBuffer()) : nil
        let response = HTTPResponse(status: self.head.status, keepAlive: self.keepAlive, body: body)
        self.head = Head()
        self.body = nil
        self.sectionBytes = 0
        self.sawInterim = false
        self.scanned = 0
        self.state = self.keepAlive ? .statusLine : .finished
        self.keepAlive = true
        return response
    }

    private mutating func fail(_ message: String) -> HTTPResponseParseError {
        let error = HTTPResponseParseError(message: message)
        self.failure = error
        self.state = .finished
        self.body = nil
        return error
    }

    /// Consumes `count` body bytes: kept when collecting (no copy when a body arrives in one piece), else skipped.
    @inline(__always)
    private mutating func takeBody(_ bytes: inout ByteBuffer, count: Int) {
        if self.collectBody {
            var slice = bytes.readSlice(length: count)!
            if self.body == nil {
                self.body = slice
            } else {
                self.body!.writeBuffer(&slice)
            }
        } else {
            bytes.moveReaderIndex(forwardBy: count)
        }
    }

    // MARK: - Line search

    /// Index of the first LF in `raw[from..<to]`, eight bytes at a time.
    @inline(__always)
    private static func firstLineFeed(_ raw: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let lineFeeds: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        while i + 8 <= to {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ lineFeeds
            // A byte of `word` is zero where the input held LF; the lowest flagged byte is exact.
            let zeros = (word &- ones) & ~word & highs
            if zeros != 0 { return i + zeros.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < to {
            if raw[i] == .lineFeed { return i }
            i += 1
        }
        return nil
    }

    private static func holdsOnlyLineBreaks(_ bytes: ByteBuffer?) -> Bool {
        guard let bytes else { return true }
        return bytes.readableBytesView.allSatisfy { $0 == .carriageReturn || $0 == .lineFeed }
    }

    // MARK: - Element parsers

    /// `HTTP/1.x SP 3DIGIT [SP reason-phrase]`.
    private static func parseStatusLine(_ line: UnsafeRawBufferPointer) throws -> (status: Int, isHTTP10: Bool) {
        // "HTTP/1.1 200" is the shortest valid line.
        guard line.count >= 12,
              line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
              line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/"),
              Self.isDigit(line[5]), line[6] == UInt8(ascii: "."), Self.isDigit(line[7]),
              line[8] == .space
        else { throw HTTPResponseParseError(message: "invalid status line") }
        guard line[5] == UInt8(ascii: "1") else { throw HTTPResponseParseError(message: "unsupported HTTP version") }
        guard Self.isDigit(line[9]), Self.isDigit(line[10]), Self.isDigit(line[11]),
              line.count == 12 || line[12] == .space || line[12] == .tab
        else { throw HTTPResponseParseError(message: "invalid status code") }
        let status = Int(line[9] &- 0x30) * 100 + Int(line[10] &- 0x30) * 10 + Int(line[11] &- 0x30)
        guard status >= 100 else { throw HTTPResponseParseError(message: "invalid status code") }
        return (status, line[7] == UInt8(ascii: "0"))
    }

    /// One header field line (or an obs-fold continuation of the previous one); records the fields that matter.
    private static func parseField(_ line: UnsafeRawBufferPointer, into head: inout Head) throws {
        let field: Field
        let valueStart: Int
        if Self.isWhitespace(line[0]) {
            // Obsolete line folding: the line continues the previous field's value (RFC 9112 5.2).
            field = head.lastField
            valueStart = 0
            if case .contentLength = field { throw HTTPResponseParseError(message: "invalid content-length") }
        } else {
            let colon = try Self.fieldNameEnd(line)
            field = Self.classify(line, nameEnd: colon)
            valueStart = colon + 1
            head.lastField = field
        }
        switch field {
        case .noField, .other:
            return
        case .contentLength:
            let length = try Self.parseContentLength(line, from: valueStart)
            if let existing = head.contentLength, existing != length {
                throw HTTPResponseParseError(message: "conflicting content-length")
            }
            head.contentLength = length
        case .transferEncoding:
            head.hasTransferEncoding = true
            Self.forEachListElement(line, from: valueStart) { start, end in
                // The last coding decides; this is the coding name, without transfer parameters.
                var nameEnd = start
                while nameEnd < end, line[nameEnd] != UInt8(ascii: ";") { nameEnd += 1 }
                while nameEnd > start, Self.isWhitespace(line[nameEnd - 1]) { nameEnd -= 1 }
                head.chunked = Self.equalsIgnoringCase(line, start, nameEnd, "chunked")
            }
        case .connection:
            Self.forEachListElement(line, from: valueStart) { start, end in
                if Self.equalsIgnoringCase(line, start, end, "close") {
                    head.connectionClose = true
                } else if Self.equalsIgnoringCase(line, start, end, "keep-alive") {
                    head.connectionKeepAlive = true
                }
            }
        }
    }

    /// Index of the colon ending a valid field name.
    private static func fieldNameEnd(_ line: UnsafeRawBufferPointer) throws -> Int {
        var i = 0
        while i < line.count {
            let byte = line[i]
            if byte == UInt8(ascii: ":") { break }
            // Field names are tokens: no whitespace (also not before the colon), controls or non-ASCII bytes.
            guard byte > 0x20, byte < 0x7F else { throw HTTPResponseParseError(message: "invalid header line") }
            i += 1
        }
        guard i > 0, i < line.count else { throw HTTPResponseParseError(message: "invalid header line") }
        return i
    }

    @inline(__always)
    private static func classify(_ line: UnsafeRawBufferPointer, nameEnd: Int) -> Field {
        switch nameEnd {
        case 10 where Self.equalsIgnoringCase(line, 0, 10, "connection"): return .connection
        case 14 where Self.equalsIgnoringCase(line, 0, 14, "content-length"): return .contentLength
        case 17 where Self.equalsIgnoringCase(line, 0, 17, "transfer-encoding"): return .transferEncoding
        default: return .other
        }
    }

    /// `1*DIGIT` with optional surrounding whitespace; a list of identical values (`5, 5`) is accepted as one
    /// (RFC 9110 8.6), differing ones are a conflict.
    private static func parseContentLength(_ line: UnsafeRawBufferPointer, from start: Int) throws -> Int {
        var result: Int? = nil
        var i = start
        while true {
            while i < line.count, Self.isWhitespace(line[i]) { i += 1 }
            var value = 0
            var digits = 0
            while i < line.count, Self.isDigit(line[i]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(line[i] &- 0x30))
                guard !o1, !o2 else { throw HTTPResponseParseError(message: "invalid content-length") }
                value = sum
                digits += 1
                i += 1
            }
            while i < line.count, Self.isWhitespace(line[i]) { i += 1 }
            guard digits > 0 else { throw HTTPResponseParseError(message: "invalid content-length") }
            if let result, result != value { throw HTTPResponseParseError(message: "conflicting content-length") }
            result = value
            if i == line.count { return value }
            guard line[i] == UInt8(ascii: ",") else { throw HTTPResponseParseError(message: "invalid content-length") }
            i += 1
        }
    }

    /// `1*HEXDIG [BWS] [; chunk-ext]`; extensions are ignored.
    private static func parseChunkSize(_ line: UnsafeRawBufferPointer) throws -> Int {
        var value = 0
        var i = 0
        while i < line.count, let digit = Self.hexValue(line[i]) {
            guard value <= Int.max >> 4 else { throw HTTPResponseParseError(message: "invalid chunk size") }
            value = value << 4 | digit
            i += 1
        }
        guard i > 0 else { throw HTTPResponseParseError(message: "invalid chunk size") }
        while i < line.count, Self.isWhitespace(line[i]) { i += 1 }
        guard i == line.count || line[i] == UInt8(ascii: ";") else {
            throw HTTPResponseParseError(message: "invalid chunk size")
        }
        return value
    }

    /// Calls `body` with the bounds of each non-empty, whitespace-trimmed element of a comma-separated list.
    @inline(__always)
    private static func forEachListElement(
        _ line: UnsafeRawBufferPointer, from start: Int, _ body: (_ start: Int, _ end: Int) -> Void
    ) {
        var i = start
        while i < line.count {
            while i < line.count, Self.isWhitespace(line[i]) || line[i] == UInt8(ascii: ",") { i += 1 }
            guard i < line.count else { break }
            let elementStart = i
            while i < line.count, line[i] != UInt8(ascii: ",") { i += 1 }
            var elementEnd = i
            while elementEnd > elementStart, Self.isWhitespace(line[elementEnd - 1]) { elementEnd -= 1 }
            body(elementStart, elementEnd)
        }
    }

    /// Whether `line[start..<end]` equals the lowercase ASCII `lowercase`, ignoring ASCII case.
    @inline(__always)
    private static func equalsIgnoringCase(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ lowercase: StaticString) -> Bool {
        guard end - start == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            for i in 0..<expected.count {
                var byte = line[start + i]
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
                if byte != expected[i] { return false }
            }
            return true
        }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == .space || byte == .tab }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }
}

extension UInt8 {
    @inline(__always) fileprivate static var lineFeed: UInt8 { 0x0A }
    @inline(__always) fileprivate static var carriageReturn: UInt8 { 0x0D }
    @inline(__always) fileprivate static var space: UInt8 { 0x20 }
    @inline(__always) fileprivate static var tab: UInt8 { 0x09 }
}
