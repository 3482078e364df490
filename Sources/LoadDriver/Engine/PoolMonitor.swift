import Atomics
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Polls the server's pool-metrics endpoint (JSON) and keeps its numeric fields, flattened with dots.
final class PoolMonitor: Sendable {
    struct Sample: Sendable {
        /// Uptime ns when taken.
        var at: Int64
        var fields: [String: Double]
    }

    let address: SocketAddress
    let hostHeader: String
    let path: String
    let loop: any EventLoop
    let timeout: TimeAmount
    private let failures = ManagedAtomic<Int>(0)
    private let latestSample = NIOLockedValueBox<[String: Double]?>(nil)

    /// The fields of the most recent successful poll of ``pollEverySecond(from:)``.
    var latest: [String: Double]? { self.latestSample.withLockedValue { $0 } }

    init(address: SocketAddress, hostHeader: String, path: String, loop: any EventLoop, timeout: TimeAmount) {
        self.address = address
        self.hostHeader = hostHeader
        self.path = path
        self.loop = loop
        self.timeout = timeout
    }

    var failedPolls: Int { self.failures.load(ordering: .relaxed) }

    /// One poll; `nil` (and a counted failure) when the endpoint does not answer 200 with JSON.
    func sample() async -> Sample? {
        do {
            let response = try await SimpleHTTPClient.get(
                address: self.address, hostHeader: self.hostHeader, path: self.path, on: self.loop, timeout: self.timeout
            ).get()
            guard response.status == 200,
                  let fields = JSONFlattening.numericFields(of: Data(response.body.readableBytesView))
            else {
                self.failures.wrappingIncrement(ordering: .relaxed)
                return nil
            }
            return Sample(at: nowNanos(), fields: fields)
        } catch {
            self.failures.wrappingIncrement(ordering: .relaxed)
            return nil
        }
    }

    /// Polls at start + 0.5 s, 1.5 s, ... until cancelled; returns the samples.
    func pollEverySecond(from start: Int64) async -> [Sample] {
        var samples: [Sample] = []
        var k: Int64 = 0
        while !Task.isCancelled {
            let due = start + 500_000_000 + k * 1_000_000_000
            k += 1
            let wait = due - nowNanos()
            if wait > 0 {
                do { try await Task.sleep(nanoseconds: UInt64(wait)) } catch { break }
            }
            if let s = await self.sample() {
                samples.append(s)
                self.latestSample.withLockedValue { $0 = s.fields }
            }
        }
        return samples
    }
}
