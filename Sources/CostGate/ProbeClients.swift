import PerformanceSupport

/// HTTP/1.1 on one keep-alive connection, one request at a time.
final class ProbeHTTPConnection {
    struct Response {
        var status: Int
        var body: ArraySlice<UInt8>
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let socket: BlockingSocket

    init(port: Int) throws(ProbeError) { socket = try BlockingSocket(port: port) }

    /// Sends a request and reads the whole response (`Content-Length` bodies; 204 and 304 have none).
    func send(_ method: String, _ path: String, bearer: String? = nil, json: String? = nil) throws(ProbeError) -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let bearer { head += "Authorization: Bearer \(bearer)\r\n" }
        if let json { head += "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n" }
        head += "\r\n" + (json ?? "")
        try socket.write(Array(head.utf8))
        let header = String(decoding: try socket.read(until: Array("\r\n\r\n".utf8)), as: UTF8.self)
        let lines = header.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw ProbeError("malformed response head: \(header.prefix(80))") }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased()
            if name == "content-length" { length = Int(parts[1].trimmingSpaces) ?? 0 }
            if name == "transfer-encoding" { throw ProbeError("chunked responses are not expected from the service") }
        }
        let body = length > 0 ? try socket.read(count: length) : []
        return Response(status: status, body: body)
    }

    /// Sends a request that must answer `expected`; anything else is an error naming the request.
    func expect(_ expected: Int, _ method: String, _ path: String, bearer: String? = nil, json: String? = nil)
        throws(ProbeError) -> Response
    {
        let response = try send(method, path, bearer: bearer, json: json)
        guard response.status == expected else {
            throw ProbeError("\(method) \(path) answered \(response.status), expected \(expected): \(response.text.prefix(200))")
        }
        return response
    }
}

/// RESP on one connection: `PING` (the reference workload) and the command counters of `INFO commandstats`.
final class ProbeRedisConnection {
    private let socket: BlockingSocket

    init(port: Int, password: String?) throws(ProbeError) {
        socket = try BlockingSocket(port: port)
        if let password { _ = try command(["AUTH", password]) }
    }

    /// Sends one command and returns its reply's text (status, error or bulk string).
    func command(_ arguments: [String]) throws(ProbeError) -> String {
        var request = "*\(arguments.count)\r\n"
        for argument in arguments { request += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        try socket.write(Array(request.utf8))
        let line = String(decoding: try socket.read(until: [13, 10]), as: UTF8.self)
        switch line.first {
        case "+": return String(line.dropFirst())
        case "-": throw ProbeError("redis: \(line.dropFirst())")
        case "$":
            guard let length = Int(line.dropFirst()), length >= 0 else { return "" }
            let text = String(decoding: try socket.read(count: length), as: UTF8.self)
            _ = try socket.read(count: 2)
            return text
        default: throw ProbeError("unexpected reply from redis: \(line.prefix(80))")
        }
    }

    /// Commands executed so far, every command except `INFO` (this probe's own readings), as the load gates count.
    func commandsExecuted() throws(ProbeError) -> Int {
        RedisInfo.parse(commandstats: try command(["INFO", "commandstats"]), stats: "").serviceCommandCalls
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
