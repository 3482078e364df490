import NIOCore
import RedisPool
import Testing

@Suite struct RESPCodecTests {
    private func encoded(_ arguments: [String]) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        RESPCommandEncoder.encode(arguments, into: &buffer)
        return String(buffer: buffer)
    }

    private func parseAll(_ wire: [UInt8], oneByteAtATime: Bool = false) throws -> [RedisReply] {
        let reader = RESPReplyReader()
        var replies: [RedisReply] = []
        if oneByteAtATime {
            for byte in wire {
                reader.feed([byte])
                while let reply = try reader.next() { replies.append(reply) }
            }
        } else {
            reader.feed(wire)
            while let reply = try reader.next() { replies.append(reply) }
        }
        return replies
    }

    @Test func encodesCommandsAsRESPArrays() {
        #expect(encoded(["PING"]) == "*1\r\n$4\r\nPING\r\n")
        #expect(encoded(["SET", "key", "value"]) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        #expect(encoded(["SET", "k", ""]) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
    }

    @Test func encodingIsBinarySafe() {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        let value: [UInt8] = [0x61, 0x0D, 0x0A, 0x00, 0xFF, 0x62]
        RESPCommandEncoder.encode([Array("SET".utf8), Array("k".utf8), value], into: &buffer)
        let expected = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n".utf8) + value + Array("\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func encodesLargeNonASCIIAndNonContiguousArguments() {
        // Larger than any stack buffer, and a string that is not ASCII.
        let big = String(repeating: "ä", count: 300_000)
        #expect(encoded(["SET", "k", big]) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000\r\n\(big)\r\n")
        // A collection without contiguous storage takes the byte-by-byte path.
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        RESPCommandEncoder.encode([Array("GET".utf8).lazy.map { $0 }, Array("k".utf8).lazy.map { $0 }], into: &buffer)
        #expect(String(buffer: buffer) == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    }

    @Test func parsesEveryRESP2Type() throws {
        let wire = Array(
            "+OK\r\n-ERR unknown command 'FOO'\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n$0\r\n\r\n*0\r\n".utf8)
        let replies = try parseAll(wire)
        #expect(
            replies == [
                .status("OK"), .error("ERR unknown command 'FOO'"), .integer(42), .integer(-7),
                .bulkString(Array("hello".utf8)), .null, .null, .bulkString([]), .array([]),
            ])
    }

    @Test func parsesNestedArrays() throws {
        let wire = Array("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+deep\r\n$-1\r\n".utf8)
        let replies = try parseAll(wire)
        #expect(replies == [.array([.integer(1), .array([.bulkString([0x61]), .array([.status("deep")])]), .null])])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0x24, 0x2D, 0x31, 0x0D, 0x0A, 0xFF]
        let wire = Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n".utf8)
        #expect(try parseAll(wire) == [.bulkString(payload)])
    }

    @Test func replyFedOneByteAtATime() throws {
        let wire = Array("*2\r\n$12\r\nhello\r\nworld\r\n:99\r\n+PONG\r\n".utf8)
        let whole = try parseAll(wire)
        let byByte = try parseAll(wire, oneByteAtATime: true)
        #expect(whole == [.array([.bulkString(Array("hello\r\nworld".utf8)), .integer(99)]), .status("PONG")])
        #expect(byByte == whole)
    }

    @Test func incompleteReplyNeedsMoreBytes() throws {
        let reader = RESPReplyReader()
        reader.feed(Array("$9\r\nhalf".utf8))
        #expect(try reader.next() == nil)
        reader.feed(Array("-full\r\n".utf8))
        #expect(try reader.next() == .bulkString(Array("half-full".utf8)))
    }

    @Test func protocolErrorIsThrown() {
        let reader = RESPReplyReader()
        reader.feed(Array("?what\r\n".utf8))
        #expect(throws: RedisConnectionError.self) { try reader.next() }
    }

    @Test func redisURLParsing() throws {
        let plain = try RedisEndpoint(url: "redis://127.0.0.1:6380")
        #expect(plain == RedisEndpoint(host: "127.0.0.1", port: 6380))
        let full = try RedisEndpoint(url: "redis://alice:s%40cret@localhost:7000/3")
        #expect(full == RedisEndpoint(host: "localhost", port: 7000, username: "alice", password: "s@cret", database: 3))
        let passwordOnly = try RedisEndpoint(url: "redis://:pw@[::1]:6379")
        #expect(passwordOnly.host == "::1" && passwordOnly.password == "pw" && passwordOnly.username == nil)
        #expect(try RedisEndpoint(url: "redis://h").port == 6379)
        #expect(!full.description.contains("s@cret"))
        // `url` is what `init(url:)` reads back, password and awkward characters included.
        let awkward = RedisEndpoint(host: "::1", port: 6380, username: "a:b", password: "p@ss/w%rd é", database: 2)
        for endpoint in [plain, full, passwordOnly, awkward] {
            #expect(try RedisEndpoint(url: endpoint.url) == endpoint, "\(endpoint.url)")
        }
        for bad in ["http://x:1", "redis://:1", "redis://h:99999", "redis://h:1/x"] {
            #expect(throws: RedisURLError.self) { try RedisEndpoint(url: bad) }
        }
    }
}
