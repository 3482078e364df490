import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as the tests see it.
struct AuthTestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first(name: name) }
    /// The body as a JSON object (nil if it is not one).
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
    func string(_ key: String) -> String? { json?[key] as? String }
}

/// Minimal HTTP/1.1 client over NIO for tests: one connection per request (`Connection: close`), a hard deadline so a
/// hanging server fails the test instead of stalling it.
enum AuthTestHTTPClient {
    struct Timeout: Error {}

    static func request(
        port: Int,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> AuthTestResponse {
        try await withThrowingTaskGroup(of: AuthTestResponse?.self) { group in
            group.addTask {
                try await self.send(port: port, method: method, path: path, headers: headers, body: body)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else { throw Timeout() }
            return first
        }
    }

    static func json(
        port: Int,
        _ method: String,
        _ path: String,
        _ object: [String: String],
        headers: [(String, String)] = []
    ) async throws -> AuthTestResponse {
        let body = try JSONSerialization.data(withJSONObject: object)
        return try await request(
            port: port,
            method,
            path,
            headers: [("Content-Type", "application/json")] + headers,
            body: Array(body)
        )
    }

    private static func send(
        port: Int,
        method: String,
        path: String,
        headers: [(String, String)],
        body: [UInt8]?
    ) async throws -> AuthTestResponse {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if let body, !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            try await outbound.write(.head(head))
            // The server may answer (413) and close before reading a large body: a failed write is not a failure.
            do {
                if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                try await outbound.write(.end(nil))
            } catch {}

            var response = AuthTestResponse(status: 0, headers: [:], body: [])
            for try await part in inbound {
                switch part {
                case .head(let head):
                    response.status = Int(head.status.code)
                    response.headers = head.headers
                case .body(let buffer):
                    response.body += Array(buffer.readableBytesView)
                case .end:
                    return response
                }
            }
            return response
        }
    }
}
