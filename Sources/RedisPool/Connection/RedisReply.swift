/// One RESP2 reply, converted from hiredis's `redisReply`.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string (binary safe).
    case bulkString([UInt8])
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    case integer(Int64)
    /// The nil bulk string or nil array.
    case null
    case array([RedisReply])
    /// An error reply, e.g. `ERR unknown command`. `RedisConnection.command` throws it as `RedisServerError`.
    case error(String)

    /// The reply as text: bulk strings (UTF-8 decoded) and statuses; `nil` otherwise.
    public var string: String? {
        switch self {
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    /// The integer value, or a bulk string / status holding an integer.
    public var int: Int64? {
        switch self {
        case .integer(let i): i
        case .bulkString, .status: string.flatMap { Int64($0) }
        default: nil
        }
    }

    public var isNull: Bool { self == .null }
}
