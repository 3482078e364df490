/// The server under test: host and port of an `http://` URL.
public struct Target: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host[:port][/]`. `https` is not supported, and neither is a path: request paths come from the
    /// scenario's mix, so a base path would be silently dropped; it is rejected instead.
    public init(url: String) throws(LoadDriverError) {
        var rest = Substring(url)
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains("://") {
            throw LoadDriverError(.invalidTarget, "only http:// URLs are supported, got '\(url)'")
        }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            let path = rest[slash...]
            guard path == "/" else {
                throw LoadDriverError(
                    .invalidTarget,
                    "a path in the URL is not supported ('\(path)' in '\(url)'): give http://host:port and put paths in the mix, e.g. 'GET:/api/items=1'")
            }
            rest = rest[..<slash]
        }
        var host: Substring
        var port = 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw LoadDriverError(.invalidTarget, "bad IPv6 literal in '\(url)'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw LoadDriverError(.invalidTarget, "bad port in '\(url)'") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { throw LoadDriverError(.invalidTarget, "bad port in '\(url)'") }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw LoadDriverError(.invalidTarget, "no host in '\(url)'") }
        guard (1...65535).contains(port) else { throw LoadDriverError(.invalidTarget, "port out of range in '\(url)'") }
        self.host = String(host)
        self.port = port
    }

    /// True for `localhost`, 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        let h = self.host.lowercased()
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }), parts[0] == "127" { return true }
        return false
    }

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// The `Host` header value.
    public var hostHeader: String { self.description }
}

/// An error of the driver itself (not of the server under test).
public struct LoadDriverError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The URL could not be parsed.
        case invalidTarget
        /// Non-loopback target without `allowRemote`.
        case remoteTargetRefused
        /// Nothing accepted a connection at the target when the run started.
        case targetUnreachable
        /// Too few file descriptors for the requested users.
        case fileDescriptorLimit
        /// The scenario or a threshold is invalid.
        case invalidScenario
        /// Anything else (event loop failure, cancellation).
        case internalError
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}
