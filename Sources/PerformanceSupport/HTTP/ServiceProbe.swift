import LoadDriver
import NIOCore
import NIOHTTP1
import NIOPosix

/// One GET to the server under test on its own connection, outside the load: for what a fault check must see for
/// itself (readiness coming back, a 503's `Retry-After`). Bounded by `timeout`.
public enum ServiceProbe {
    public struct Response: Sendable {
        public var status: Int
        /// Header name (lowercased) → value; the last one wins.
        public var headers: [String: String]
        public var body: String
    }

    public static func get(
        port: Int, path: String, headers: [(String, String)] = [], timeout: Duration = .seconds(2)
    ) async throws -> Response {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let timeoutAmount = TimeAmount(timeout)
        let response = try await SimpleHTTPClient.get(
            address: address, hostHeader: "127.0.0.1:\(port)", path: path, headers: headers,
            on: MultiThreadedEventLoopGroup.singleton.next(), timeout: timeoutAmount
        ).get()
        var names: [String: String] = [:]
        for (name, value) in response.headers { names[name.lowercased()] = value }
        return Response(status: response.status, headers: names, body: String(buffer: response.body))
    }

    /// Polls `path` every `interval` until it answers 200 or `limit` passes; returns how long that took, or `nil`.
    public static func waitForOK(
        port: Int, path: String, interval: Duration = .milliseconds(20), limit: Duration = .seconds(15)
    ) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if let response = try? await self.get(port: port, path: path, timeout: .milliseconds(500)), response.status == 200 {
                return ContinuousClock.now - start
            }
            try await Task.sleep(for: interval)
        }
        return nil
    }
}
