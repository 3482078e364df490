import LoadDriver
import NIOCore
import Testing

@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    /// A raw response and what parsing it must give (with `collectBody: true`).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: String
        var isHEAD = false
        /// The body runs until the connection closes: the response comes from `connectionClosed()`.
        var endsWithClose = false
        var status: Int
        var keepAlive: Bool
        var body: String

        var testDescription: String { self.name }

        func expected(collectBody: Bool) -> HTTPResponse {
            HTTPResponse(status: self.status, keepAlive: self.keepAlive, body: collectBody ? ByteBuffer(string: self.body) : nil)
        }
    }

    static let cases: [Case] = [
        Case(name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
             status: 200, keepAlive: true, body: "hello"),
        Case(name: "content-length zero", raw: "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
             status: 201, keepAlive: true, body: ""),
        Case(name: "content-length with whitespace and an identical duplicate",
             raw: "HTTP/1.1 200 OK\r\ncontent-length: \t3 \r\nCONTENT-LENGTH: 3, 3\r\n\r\nabc", status: 200, keepAlive: true, body: "abc"),
        Case(name: "body holding line breaks and a status line",
             raw: "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n\r\n\r\nHTTP/1.1 500 Oops\r\n", status: 200, keepAlive: true,
             body: "\r\n\r\nHTTP/1.1 500 Oops\r\n"),
        Case(name: "204 without body", raw: "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", status: 204, keepAlive: true, body: ""),
        Case(name: "204 with empty reason", raw: "HTTP/1.1 204 \r\n\r\n", status: 204, keepAlive: true, body: ""),
        Case(name: "204 without reason", raw: "HTTP/1.1 204\r\n\r\n", status: 204, keepAlive: true, body: ""),
        Case(name: "304 with content-length has no body",
             raw: "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\n", status: 304, keepAlive: true, body: ""),
        Case(name: "204 with chunked has no body", raw: "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
             status: 204, keepAlive: true, body: ""),
        Case(name: "HEAD with content-length has no body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", isHEAD: true,
             status: 200, keepAlive: true, body: ""),
        Case(name: "HEAD with chunked has no body", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", isHEAD: true,
             status: 200, keepAlive: true, body: ""),
        Case(name: "chunked with extensions and trailers",
             raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA ; foo=\"b;r\"\r\n, world!!!\r\n"
                + "000\r\nX-Checksum: 1\r\nX-Other: two\r\n\r\n",
             status: 200, keepAlive: true, body: "hello, world!!!"),
        Case(name: "chunked with upper-case hex and leading zeros",
             raw: "HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n000B\r\n0123456789a\r\n1\r\nb\r\n0\r\n\r\n",
             status: 200, keepAlive: true, body: "0123456789ab"),
        Case(name: "chunked empty body", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             status: 200, keepAlive: true, body: ""),
        Case(name: "chunked wins over content-length",
             raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
             status: 200, keepAlive: true, body: "abcd"),
        Case(name: "chunked on two transfer-encoding lines",
             raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
             status: 200, keepAlive: true, body: "ab"),
        Case(name: "transfer-encoding without final chunked reads until close",
             raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\nxyz", endsWithClose: true,
             status: 200, keepAlive: false, body: "xyz"),
        Case(name: "read until close", raw: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed\r\nuntil close",
             endsWithClose: true, status: 200, keepAlive: false, body: "streamed\r\nuntil close"),
        Case(name: "read until close with empty body", raw: "HTTP/1.1 200 OK\r\n\r\n", endsWithClose: true,
             status: 200, keepAlive: false, body: ""),
        Case(name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 2\r\n\r\nok",
             status: 200, keepAlive: false, body: "ok"),
        Case(name: "connection with other tokens stays alive", raw: "HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\nContent-Length: 2\r\n\r\nok",
             status: 200, keepAlive: true, body: "ok"),
        Case(name: "HTTP/1.0 closes by default", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
             status: 200, keepAlive: false, body: "ok"),
        Case(name: "HTTP/1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nconnection: KEEP-ALIVE\r\nContent-Length: 2\r\n\r\nok",
             status: 200, keepAlive: true, body: "ok"),
        Case(name: "HTTP/1.0 keep-alive and close", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
             status: 200, keepAlive: false, body: "ok"),
        Case(name: "HTTP/1.0 read until close", raw: "HTTP/1.0 404 Not Found\r\n\r\nmissing", endsWithClose: true,
             status: 404, keepAlive: false, body: "missing"),
        Case(name: "100 continue then 200",
             raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", status: 200, keepAlive: true, body: "abc"),
        Case(name: "100 and 103 then 201",
             raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nContent-Length: 7\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
             status: 201, keepAlive: true, body: ""),
        Case(name: "101 ends the stream",
             raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
             status: 101, keepAlive: false, body: ""),
        Case(name: "bare LF line endings", raw: "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", status: 200, keepAlive: true, body: "abc"),
        Case(name: "bare LF chunked",
             raw: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n2;x\nde\n0\nTrailer: t\n\n", status: 200, keepAlive: true, body: "abcde"),
        Case(name: "blank lines before the status line", raw: "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
             status: 200, keepAlive: true, body: "x"),
        Case(name: "obsolete line folding continues connection",
             raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nX-Folded: a\r\n\tb\r\nContent-Length: 1\r\n\r\nx",
             status: 200, keepAlive: false, body: "x"),
        Case(name: "status 599 and a long reason", raw: "HTTP/1.1 599 Some Very Long Reason: with colons\tand tabs\r\nContent-Length: 1\r\n\r\nx",
             status: 599, keepAlive: true, body: "x"),
        Case(name: "HTTP/1.1 500 with body", raw: "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 9\r\nconnection: keep-alive\r\n\r\n{\"e\":\"x\"}",
             status: 500, keepAlive: true, body: "{\"e\":\"x\"}"),
    ]

    // MARK: - Helpers

    /// Feeds `raw` in pieces of the given sizes (the rest in one piece) and returns the single response.
    static func parse(
        _ raw: [UInt8], pieceSizes: [Int]? = nil, isHEAD: Bool = false, collectBody: Bool = true, endsWithClose: Bool = false,
        maximumHeaderBytes: Int = 64 * 1024
    ) throws -> HTTPResponse? {
        var parser = HTTPResponseParser(maximumHeaderBytes: maximumHeaderBytes)
        parser.expect(isHEAD: isHEAD, collectBody: collectBody)
        var offset = 0
        var sizes = (pieceSizes ?? [raw.count])[...]
        while offset < raw.count {
            let size = min(sizes.popFirst() ?? raw.count, raw.count - offset)
            var piece = ByteBuffer(bytes: raw[offset..<offset + size])
            offset += size
            let response = try parser.feed(&piece)
            #expect(piece.readableBytes == 0)
            if let response {
                #expect(offset == raw.count, "response returned before its last byte")
                return response
            }
        }
        return endsWithClose ? try parser.connectionClosed() : nil
    }

    static func parseByteByByte(_ raw: [UInt8], isHEAD: Bool = false, collectBody: Bool = true, endsWithClose: Bool = false,
                                maximumHeaderBytes: Int = 64 * 1024) throws -> HTTPResponse? {
        try self.parse(raw, pieceSizes: Array(repeating: 1, count: raw.count), isHEAD: isHEAD, collectBody: collectBody,
                       endsWithClose: endsWithClose, maximumHeaderBytes: maximumHeaderBytes)
    }

    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    // MARK: - Valid responses

    @Test(arguments: Self.cases)
    func parsesInOnePiece(_ c: Case) throws {
        let response = try Self.parse(Self.bytes(c.raw), isHEAD: c.isHEAD, endsWithClose: c.endsWithClose)
        #expect(response == c.expected(collectBody: true))
    }

    @Test(arguments: Self.cases)
    func parsesOneByteAtATime(_ c: Case) throws {
        let oneShot = try Self.parse(Self.bytes(c.raw), isHEAD: c.isHEAD, endsWithClose: c.endsWithClose)
        let byteByByte = try Self.parseByteByByte(Self.bytes(c.raw), isHEAD: c.isHEAD, endsWithClose: c.endsWithClose)
        #expect(byteByByte == oneShot)
        #expect(byteByByte == c.expected(collectBody: true))
    }

    @Test(arguments: Self.cases)
    func parsesEveryTwoPieceSplit(_ c: Case) throws {
        let raw = Self.bytes(c.raw)
        for split in 1..<raw.count {
            let response = try Self.parse(raw, pieceSizes: [split], isHEAD: c.isHEAD, endsWithClose: c.endsWithClose)
            #expect(response == c.expected(collectBody: true), "split at \(split)")
        }
    }

    @Test(arguments: Self.cases)
    func withoutCollectingTheBodyIsNil(_ c: Case) throws {
        let response = try Self.parse(Self.bytes(c.raw), isHEAD: c.isHEAD, collectBody: false, endsWithClose: c.endsWithClose)
        #expect(response == c.expected(collectBody: false))
        #expect(response?.body == nil)
        let byteByByte = try Self.parseByteByByte(Self.bytes(c.raw), isHEAD: c.isHEAD, collectBody: false, endsWithClose: c.endsWithClose)
        #expect(byteByByte == c.expected(collectBody: false))
    }

    @Test func readUntilCloseCompletesOnlyOnClose() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nServer: x\r\n\r\npart one, ")
        #expect(try parser.feed(&buffer) == nil)
        buffer = ByteBuffer(string: "part two")
        #expect(try parser.feed(&buffer) == nil)
        let response = try parser.connectionClosed()
        #expect(response == HTTPResponse(status: 200, keepAlive: false, body: ByteBuffer(string: "part one, part two")))
        #expect(try parser.connectionClosed() == nil)
    }

    @Test func twoPipelinedResponsesInOneBuffer() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
            + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n")
        let first = try parser.feed(&buffer)
        #expect(buffer.readableBytes == 0)
        #expect(first == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(string: "one")))
        parser.expect(isHEAD: false, collectBody: true)
        var empty = ByteBuffer()
        let second = try parser.feed(&empty)
        #expect(second == HTTPResponse(status: 404, keepAlive: true, body: ByteBuffer(string: "two")))
        #expect(try parser.feed(&empty) == nil)
        #expect(try parser.connectionClosed() == nil)
    }

    @Test func leftoverStartOfTheNextResponseIsKept() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 202 Acc")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(string: "a")))
        parser.expect(isHEAD: true, collectBody: false)
        var empty = ByteBuffer()
        #expect(try parser.feed(&empty) == nil)
        buffer = ByteBuffer(string: "epted\r\nContent-Length: 10\r\n\r\n")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 202, keepAlive: true, body: nil))
    }

    @Test func flagsApplyPerRequest() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: true, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer()))
        parser.expect(isHEAD: false, collectBody: false)
        buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: true, body: nil))
        parser.expect(isHEAD: false, collectBody: true)
        buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(string: "world")))
    }

    @Test func bytesAfterAClosingResponseAreIgnored() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxgarbage")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: false, body: ByteBuffer(string: "x")))
        buffer = ByteBuffer(string: "more garbage")
        #expect(try parser.feed(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
        #expect(try parser.connectionClosed() == nil)
    }

    @Test func connectionClosedWithNothingInProgress() throws {
        var parser = HTTPResponseParser()
        #expect(try parser.connectionClosed() == nil)

        parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: false)
        // Stray line breaks after a complete response are not a response.
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\n\r")
        #expect(try parser.feed(&buffer) == HTTPResponse(status: 200, keepAlive: true, body: nil))
        #expect(try parser.connectionClosed() == nil)
    }

    @Test func largeSplitBodyIsCollectedExactly() throws {
        var body = [UInt8]()
        for i in 0..<200_000 { body.append(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8)) }
        let head = Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n")
        let sizes = Array(repeating: 1_000, count: 300)
        let collected = try Self.parse(head + body, pieceSizes: sizes)
        #expect(collected == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(bytes: body)))
        let skipped = try Self.parse(head + body, pieceSizes: sizes, collectBody: false)
        #expect(skipped == HTTPResponse(status: 200, keepAlive: true, body: nil))
    }

    @Test func headerSectionExactlyAtTheLimitIsAccepted() throws {
        let raw = Self.bytes("HTTP/1.1 200 OK\r\nX-Pad: aaaaaaaa\r\nContent-Length: 2\r\n\r\nok")
        let headBytes = raw.count - 2
        let response = try Self.parse(raw, maximumHeaderBytes: headBytes)
        #expect(response == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(string: "ok")))
        #expect(try Self.parseByteByByte(raw, maximumHeaderBytes: headBytes) == response)
        #expect(throws: HTTPResponseParseError(message: "header section over \(headBytes - 1) bytes")) {
            try Self.parse(raw, maximumHeaderBytes: headBytes - 1)
        }
        #expect(throws: HTTPResponseParseError(message: "header section over \(headBytes - 1) bytes")) {
            try Self.parseByteByByte(raw, maximumHeaderBytes: headBytes - 1)
        }
    }

    @Test func headerLimitAppliesToEachInterimResponseSeparately() throws {
        let interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let raw = Self.bytes(interim + interim + interim + final)
        let response = try Self.parse(raw, maximumHeaderBytes: interim.utf8.count)
        #expect(response == HTTPResponse(status: 200, keepAlive: true, body: ByteBuffer(string: "ok")))
    }

    // MARK: - Errors

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var raw: String
        var message: String
        var maximumHeaderBytes = 64 * 1024
        var testDescription: String { self.message + ": " + String(self.raw.debugDescription.prefix(60)) }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(raw: "HTTP/1.1 OK\r\n\r\n", message: "invalid status line"),
        ErrorCase(raw: "HTTP/1.1\r\n\r\n", message: "invalid status line"),
        ErrorCase(raw: "http/1.1 200 OK\r\n\r\n", message: "invalid status line"),
        ErrorCase(raw: "HTTP/1.1  200 OK\r\n\r\n", message: "invalid status code"),
        ErrorCase(raw: "<html><body>hello</body></html>\r\n", message: "invalid status line"),
        ErrorCase(raw: "HTTP/2.0 200 OK\r\n\r\n", message: "unsupported HTTP version"),
        ErrorCase(raw: "HTTP/1.1 2x0 OK\r\n\r\n", message: "invalid status code"),
        ErrorCase(raw: "HTTP/1.1 20 OK\r\n\r\n", message: "invalid status code"),
        ErrorCase(raw: "HTTP/1.1 2000 OK\r\n\r\n", message: "invalid status code"),
        ErrorCase(raw: "HTTP/1.1 099 Low\r\n\r\n", message: "invalid status code"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", message: "invalid header line"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", message: "invalid header line"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\n: value\r\n\r\n", message: "invalid header line"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n", message: "invalid content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", message: "conflicting content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", message: "conflicting content-length"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n", message: "invalid chunk size"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", message: "invalid chunk data terminator"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\r\n", message: "invalid chunk data terminator"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", message: "invalid header line"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "x", count: 2_000) + "\r\nx\r\n",
                  message: "chunk-size line over 1024 bytes"),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: 200) + "\r\nContent-Length: 0\r\n\r\n",
                  message: "header section over 128 bytes", maximumHeaderBytes: 128),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Many: v\r\n", count: 20) + "Content-Length: 0\r\n\r\n",
                  message: "header section over 128 bytes", maximumHeaderBytes: 128),
        // No line feed at all: the parser must give up instead of buffering forever.
        ErrorCase(raw: "HTTP/1.1 200 OK" + String(repeating: " ", count: 500),
                  message: "header section over 128 bytes", maximumHeaderBytes: 128),
        ErrorCase(raw: String(repeating: "\r\n", count: 100), message: "header section over 128 bytes", maximumHeaderBytes: 128),
        ErrorCase(raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "T: v\r\n", count: 30) + "\r\n",
                  message: "trailer section over 128 bytes", maximumHeaderBytes: 128),
    ]

    @Test(arguments: Self.errorCases)
    func rejectsMalformedInput(_ c: ErrorCase) throws {
        let raw = Self.bytes(c.raw)
        let expected = HTTPResponseParseError(message: c.message)
        #expect(throws: expected) { try Self.parse(raw, maximumHeaderBytes: c.maximumHeaderBytes) }
        #expect(throws: expected) { try Self.parseByteByByte(raw, maximumHeaderBytes: c.maximumHeaderBytes) }
        #expect(expected.description == c.message)
    }

    @Test func errorsAreSticky() throws {
        var parser = HTTPResponseParser()
        parser.expect(isHEAD: false, collectBody: true)
        var buffer = ByteBuffer(string: "HTTP/1.1 xyz\r\n\r\n")
        #expect(throws: HTTPResponseParseError(message: "invalid status code")) { try parser.feed(&buffer) }
        buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(throws: HTTPResponseParseError(message: "invalid status code")) { try parser.feed(&buffer) }
        #expect(buffer.readableBytes == 0)
        // The error was already reported; closing adds nothing.
        #expect(try parser.connectionClosed() == nil)
    }

    static let truncated: [String] = [
        "H",
        "HTTP/1.1 200 OK\r",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTrailer: x\r\n",
    ]

    @Test(arguments: Self.truncated)
    func connectionClosedMidResponse(_ raw: String) throws {
        for pieceSizes in [nil, Array(repeating: 1, count: raw.utf8.count)] {
            var parser = HTTPResponseParser()
            parser.expect(isHEAD: false, collectBody: true)
            var offset = 0
            let bytes = Self.bytes(raw)
            for size in pieceSizes ?? [bytes.count] {
                var piece = ByteBuffer(bytes: bytes[offset..<offset + size])
                offset += size
                #expect(try parser.feed(&piece) == nil)
            }
            #expect(throws: HTTPResponseParseError(message: "connection closed mid-response")) { try parser.connectionClosed() }
        }
    }

    // MARK: - Seeded random splits

    /// xorshift64* with a fixed seed, so every run feeds the same pieces.
    struct XorShift64Star {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state ^= self.state >> 12
            self.state ^= self.state << 25
            self.state ^= self.state >> 27
            return self.state &* 2_685_821_657_736_338_717
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(self.next() % UInt64(range.upperBound - range.lowerBound + 1))
        }
        mutating func chance(_ percent: Int) -> Bool { self.int(0...99) < percent }
        mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: self.next() >> 32) } }
        mutating func pick<T>(_ items: [T]) -> T { items[self.int(0...(items.count - 1))] }
    }

    struct Generated {
        var raw: [UInt8]
        var isHEAD: Bool
        var collectBody: Bool
        var expected: HTTPResponse
    }

    /// One random response; `last` allows the ones that end the connection.
    static func generate(_ rng: inout XorShift64Star, last: Bool) -> Generated {
        let eol = rng.chance(15) ? "\n" : "\r\n"
        var head = ""
        func line(_ s: String) { head += s + eol }

        for _ in 0..<(rng.chance(20) ? rng.int(1...2) : 0) {
            line(rng.pick(["HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints", "HTTP/1.1 102"]))
            if rng.chance(50) { line("Link: </x.js>; rel=preload") }
            line("")
        }
        let isHTTP10 = rng.chance(10)
        let status = rng.pick([200, 200, 200, 201, 204, 302, 304, 400, 401, 404, 429, 500, 503])
        line((isHTTP10 ? "HTTP/1.0 " : "HTTP/1.1 ") + "\(status)" + rng.pick([" OK", " Some Reason", " ", ""]))

        let isHEAD = rng.chance(10)
        let collectBody = rng.chance(70)
        let hasBody = !isHEAD && status != 204 && status != 304
        // 0 content-length, 1 chunked, 2 no framing header (a body then runs until close, so only in the last one).
        var framing = rng.int(0...2)
        if framing == 2 && hasBody && !last { framing = 0 }
        // Transfer-Encoding in HTTP/1.0 means faulty framing: the connection closes after it.
        if framing == 1 && isHTTP10 && !last { framing = 0 }
        let closes = last && rng.chance(50)
        var keepAlive = !closes
        let names = ["Content-Type", "x-request-id", "SERVER", "Cache-Control", "Date", "Vary"]
        var fields: [String] = []
        for _ in 0..<rng.int(0...6) {
            fields.append(rng.pick(names) + ":" + rng.pick(["", " ", "  "]) + String(repeating: "v", count: rng.int(0...40)))
        }
        if isHTTP10 {
            fields.append(closes ? "Connection: close" : rng.pick(["Connection: keep-alive", "connection: Keep-Alive", "Connection: foo, keep-alive"]))
        } else if closes {
            fields.append(rng.pick(["Connection: close", "connection: CLOSE", "Connection: keep-alive, close"]))
        } else if rng.chance(30) {
            fields.append(rng.pick(["Connection: keep-alive", "Connection: upgrade-insecure"]))
        }

        var body: [UInt8] = []
        var payload: [UInt8] = []
        let bodyLength = rng.chance(10) ? rng.int(1_000...20_000) : rng.int(0...300)
        switch framing {
        case 0:
            fields.append("Content-Length: \(bodyLength)")
            if hasBody {
                body = rng.bytes(bodyLength)
                payload = body
            }
        case 1:
            fields.append(rng.pick(["Transfer-Encoding: chunked", "transfer-encoding: CHUNKED", "Transfer-Encoding: gzip, chunked"]))
            if rng.chance(20) { fields.append("Content-Length: 7") }
            if hasBody {
                for _ in 0..<rng.int(0...5) {
                    let chunk = rng.bytes(rng.int(1...400))
                    body += chunk
                    var sizeLine = String(chunk.count, radix: 16, uppercase: rng.chance(50))
                    if rng.chance(10) { sizeLine = "00" + sizeLine }
                    if rng.chance(20) { sizeLine += rng.pick([";ext", " ;a=b", ";q=\"x;y\""]) }
                    payload += Array((sizeLine + eol).utf8) + chunk + Array(eol.utf8)
                }
                payload += Array(("0" + eol).utf8)
                for _ in 0..<(rng.chance(20) ? rng.int(1...3) : 0) { payload += Array(("X-Trailer: t" + eol).utf8) }
                payload += Array(eol.utf8)
            }
        default:
            // No framing header: the body runs until the connection closes (only generated as the last response).
            keepAlive = keepAlive && !hasBody
            if hasBody {
                body = rng.bytes(bodyLength)
                payload = body
            }
        }
        if isHTTP10 && framing == 1 { keepAlive = false }
        for field in fields { line(field) }
        line("")
        let expected = HTTPResponse(status: status, keepAlive: keepAlive, body: collectBody ? ByteBuffer(bytes: body) : nil)
        return Generated(raw: Array(head.utf8) + payload, isHEAD: isHEAD, collectBody: collectBody, expected: expected)
    }

    @Test(arguments: [(UInt64(0x5EED_1234_ABCD_0001), 1...3), (0x5EED_1234_ABCD_0002, 1...64), (0x5EED_1234_ABCD_0003, 1...1_500),
                      (0x5EED_1234_ABCD_0004, 1...20_000)])
    func seededRandomSplits(seed: UInt64, pieceSizes: ClosedRange<Int>) throws {
        var rng = XorShift64Star(state: seed)
        var generated: [Generated] = []
        for i in 0..<300 { generated.append(Self.generate(&rng, last: i == 299)) }
        let stream = generated.flatMap(\.raw)
        var all = ByteBuffer(bytes: stream)

        var parser = HTTPResponseParser()
        var next = 0
        parser.expect(isHEAD: generated[0].isHEAD, collectBody: generated[0].collectBody)
        func check(_ response: HTTPResponse) {
            #expect(next < generated.count)
            guard next < generated.count else { return }
            #expect(response == generated[next].expected, "response \(next) of seed \(seed)")
            next += 1
            if next < generated.count {
                parser.expect(isHEAD: generated[next].isHEAD, collectBody: generated[next].collectBody)
            }
        }
        while all.readableBytes > 0 {
            // Slices of one buffer, so pieces share storage like reads from one socket buffer might.
            var piece = all.readSlice(length: min(rng.int(pieceSizes), all.readableBytes))!
            var response = try parser.feed(&piece)
            #expect(piece.readableBytes == 0)
            while let complete = response {
                check(complete)
                var empty = ByteBuffer()
                response = try parser.feed(&empty)
            }
        }
        if let complete = try parser.connectionClosed() { check(complete) }
        #expect(next == generated.count)
    }
}
