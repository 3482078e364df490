/// Where a Redis server lives and how to log in to it.
///
/// Parsed from a `redis://[user:password@]host:port[/db]` URL or built field by field.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address. Default `127.0.0.1`.
    public var host: String
    /// TCP port. Default `6379`.
    public var port: Int
    /// ACL user name for `AUTH user password`; `nil` uses `AUTH password` (the default user). Default `nil`.
    public var username: String?
    /// Password; `nil` sends no `AUTH`. Default `nil`.
    public var password: String?
    /// Logical database selected with `SELECT` after connecting. Default `0` (no `SELECT` sent).
    public var database: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[user:password@]host:port[/db]` (also `redis://:password@host`).
    public init(url: String) throws(RedisURLError) {
        guard url.hasPrefix("redis://") else {
            throw RedisURLError(url: url, reason: "expected the scheme redis://")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // redis://password@host is ambiguous; Redis clients treat a lone value as the password.
                password = Self.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    throw RedisURLError(url: url, reason: "database '\(path)' is not a non-negative integer")
                }
                database = db
            }
        }
        var host = String(rest)
        var port = 6379
        if rest.hasPrefix("[") {  // [::1]:6379
            guard let close = rest.firstIndex(of: "]") else {
                throw RedisURLError(url: url, reason: "unterminated IPv6 address")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw RedisURLError(url: url, reason: "port '\(after.dropFirst())' is not in 1...65535")
                }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            let portText = rest[rest.index(after: colon)...]
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw RedisURLError(url: url, reason: "port '\(portText)' is not in 1...65535")
            }
            port = p
        }
        guard !host.isEmpty else { throw RedisURLError(url: url, reason: "missing host") }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// The `redis://` URL that ``init(url:)`` parses back to this endpoint, password included (not for logs: use
    /// ``description``). User name and password are percent-encoded where needed.
    public var url: String {
        var s = "redis://"
        if username != nil || password != nil {
            s += Self.percentEncoded(username ?? "") + ":" + Self.percentEncoded(password ?? "") + "@"
        }
        s += host.contains(":") ? "[\(host)]" : host
        s += ":\(port)"
        if database != 0 { s += "/\(database)" }
        return s
    }

    private static func percentEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// The URL form with the password masked, safe to log.
    public var description: String {
        var s = "redis://"
        if let username { s += username }
        if password != nil { s += ":***" }
        if username != nil || password != nil { s += "@" }
        s += host.contains(":") ? "[\(host)]" : host
        s += ":\(port)"
        if database != 0 { s += "/\(database)" }
        return s
    }

    private static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
                let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A `redis://` URL that could not be parsed.
public struct RedisURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL as given (may contain a password; not included in `description`).
    public var url: String
    public var reason: String
    public var description: String { "invalid Redis URL: \(reason)" }
}
