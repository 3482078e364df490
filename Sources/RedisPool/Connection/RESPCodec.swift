import CHiredis
import NIOCore

/// Encodes commands with hiredis's `redisFormatCommandArgv`.
package enum RESPCommandEncoder {
    /// Appends one command (its arguments as bytes) in RESP to `buffer`, formatted by hiredis.
    package static func encode<Argument: Collection<UInt8>>(_ arguments: [Argument], into buffer: inout ByteBuffer) {
        encode(arguments[...], into: &buffer)
    }

    package static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        encode(arguments.lazy.map(\.utf8), into: &buffer)
    }

    /// The arguments' bytes, lengths and pointers live in temporary (stack) storage for the call to hiredis, so a
    /// command costs no Swift heap allocation (only hiredis's own formatted copy).
    private static func encode<Arguments: Collection>(_ arguments: Arguments, into buffer: inout ByteBuffer)
    where Arguments.Element: Collection<UInt8> {
        let count = arguments.count
        precondition(count > 0, "a Redis command needs at least one argument")
        var total = 0
        for argument in arguments { total += argument.count }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(total, 1)) { flat in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                    let base = flat.baseAddress!
                    var offset = 0
                    for (i, argument) in arguments.enumerated() {
                        let start = offset
                        let copied = argument.withContiguousStorageIfAvailable { bytes in
                            if let source = bytes.baseAddress {
                                UnsafeMutableRawPointer(base + offset).copyMemory(from: source, byteCount: bytes.count)
                            }
                            return bytes.count
                        }
                        if let copied {
                            offset += copied
                        } else {
                            for byte in argument {
                                (base + offset).initialize(to: CChar(bitPattern: byte))
                                offset += 1
                            }
                        }
                        (lengths.baseAddress! + i).initialize(to: offset - start)
                        (argv.baseAddress! + i).initialize(to: UnsafePointer(base + start))
                    }
                    var command: UnsafeMutablePointer<CChar>?
                    let length = redisFormatCommandArgv(&command, Int32(count), argv.baseAddress, lengths.baseAddress)
                    // Only fails on out of memory, where hiredis has already aborted in practice.
                    precondition(length >= 0 && command != nil, "redisFormatCommandArgv failed")
                    buffer.writeBytes(UnsafeRawBufferPointer(start: command, count: Int(length)))
                    redisFreeCommand(command)
                }
            }
        }
    }
}

/// Parses replies with hiredis's `redisReader`. Not thread-safe: owned by one channel handler.
package final class RESPReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    package init() {
        guard let reader = redisReaderCreate() else { fatalError("redisReaderCreate: out of memory") }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Hands bytes received from the server to the reader.
    package func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    package func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    package func next() throws(RedisConnectionError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        if redisReaderGetReply(reader, &raw) != REDIS_OK {
            let message = withUnsafeBytes(of: reader.pointee.errstr) { buffer in
                String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw RedisConnectionError(.protocolError, message.isEmpty ? "invalid RESP" : message)
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulkString(Self.bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: Self.bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: Self.bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { elements.append(convert(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .error("unsupported reply type \(r.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
