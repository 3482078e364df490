import Foundation
import LoadDriver
import NIOCore
import NIOPosix
import PerformanceSupport
import RedisPool
import Synchronization
import Testing

extension PerformanceSuite.FaultScenarios {
    /// Redis stalls (`DEBUG SLEEP` blocks its single thread) every 2 s for longer than the pool's command timeout:
    /// stuck commands must time out, their connections be replaced, latency stay bounded and no lease leak.
    @Test(.timeLimit(.minutes(3)))
    func slowRedis() async throws {
        let environment = try PerformanceEnvironment.current()
        let commandTimeout = Duration.milliseconds(200), stall = 0.3, period = Duration.seconds(2)
        var slowSpec = Self.baselineLoad("SlowRedis")
        slowSpec.server.pool.commandTimeout = commandTimeout
        let spec = slowSpec
        let acquireTimeout = spec.server.pool.acquireTimeout
        let stalls = Mutex(0)
        let end = spec.scenario.warmUpSeconds + (spec.scenario.durationSeconds ?? 30) * environment.durationScale
        let run = try await ScenarioCheck.run(spec, environment: environment) { live in
            // Its own connection, outside the service's pool; its timeout covers the sleep.
            let admin = try await RedisConnection.connect(
                to: live.redis.endpoint, commandTimeout: .seconds(5), eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: ScenarioCheck.logger)
            defer { admin.close() }
            var next = spec.scenario.warmUpSeconds + 1
            while next < end - 1 {
                try await live.timeline.sleep(untilSecond: next)
                live.timeline.mark(Event.redisStalled, detail: "DEBUG SLEEP \(stall)")
                _ = try await admin.command("DEBUG", "SLEEP", String(stall))
                stalls.withLock { $0 += 1 }
                next += Self.seconds(period)
            }
        }
        let result = run.result
        let timeouts = result.pool?.final["commandTimeouts"] ?? 0
        let created = result.pool?.final["connectionsCreated"] ?? 0
        let initialCreated = result.pool?.initial["connectionsCreated"] ?? 0
        let boundMs = Self.milliseconds(acquireTimeout + commandTimeout) + 250
        // 401 is expected too: a refresh whose MULTI/EXEC ran but whose reply came after the timeout rotated the
        // token without the user learning the new one; its verifies fail until its next login.
        let statusOther = result.statusCodes.filter { !["200", "401", "503"].contains($0.key) }
        print(
            "SlowRedis: \(stalls.withLock { $0 }) stalls of \(stall) s (command timeout \(commandTimeout)); failure rate \(String(format: "%.3f%%", result.summary.failureRate * 100)); p99 \(String(format: "%.1f", result.summary.latencyMs.p99)) ms, max service time \(String(format: "%.1f", result.summary.serviceTimeMs.max)) ms (bound \(boundMs) ms); command timeouts \(Int(timeouts)); connections created \(Int(initialCreated)) -> \(Int(created))"
        )
        #expect(stalls.withLock { $0 } >= 2, "the stall must have been injected")
        #expect(timeouts > 0, "stalled commands must hit the command timeout")
        #expect(created > initialCreated, "connections closed on a timeout must be replaced")
        #expect(result.summary.latencyMs.p99 <= boundMs, "p99 must stay within acquireTimeout + commandTimeout")
        #expect(result.summary.serviceTimeMs.max <= boundMs, "no request may wait longer than acquireTimeout + commandTimeout")
        #expect(statusOther.isEmpty, "only 200, 401 or 503 expected, got \(statusOther)")
        #expect((result.errors.counts["timeout"] ?? 0) == 0, "no request may time out at the client")
    }

    /// 200 extra connections send their request headers one byte at a time (slowloris: each connection a byte every
    /// second, the connections staggered over that second as independent clients would be; the classic tool sends a
    /// header line every 15 s). They connect while the users set up and stay open all run, always in the middle of a
    /// request's headers; they trickle in 3 s phases that alternate with 3 s pauses across a Baseline run. The normal users' p95 in the trickling seconds must stay within 2x of the clean seconds (+5 ms for the
    /// 1 ms send grid and timer noise). Clean and slow seconds interleave seconds apart, so a slow spell of a shared
    /// machine hits both alike; each side's p95 is the median of its seconds' p95s, and a second that straddles a
    /// phase's start or end counts on neither side.
    @Test(.timeLimit(.minutes(3)))
    func slowClients() async throws {
        let environment = try PerformanceEnvironment.current()
        let spec = Self.baselineLoad("SlowClients")
        let warm = spec.scenario.warmUpSeconds
        let end = warm + (spec.scenario.durationSeconds ?? 30) * environment.durationScale
        let phase = 3.0
        // Clean from the end of warm-up; slow phases start at warm + 3, warm + 9, ... while they fit.
        let phases = stride(from: warm + phase, through: end - phase, by: 2 * phase).map { $0...($0 + phase) }
        let swarmReport = Mutex<SlowClientSwarm.Report?>(nil)
        let run = try await ScenarioCheck.run(spec, environment: environment) { live in
            let swarm = SlowClientSwarm(port: live.server.port, connections: 200, byteInterval: .seconds(1))
            let report = try await swarm.run(phases: phases, timeline: live.timeline)
            swarmReport.withLock { $0 = report }
        }
        let result = run.result
        let report = try #require(swarmReport.withLock { $0 })
        let events = result.events ?? []
        func times(_ name: String) -> [Double] { events.filter { $0.name == name }.map(\.atSeconds) }
        let trickled = zip(times(Event.slowClientsTrickling), times(Event.slowClientsPaused)).map { $0...max($0, $1) }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
        let lastSecond = result.timeSeries.last?.second
        let measuredPoints = result.timeSeries.filter { !$0.warmUp && $0.requests > 0 && $0.second != lastSecond }  // last: partial
        let slow = measuredPoints.filter { Self.isInside($0.second, trickled) }.map(\.p95Ms)
        let clean = measuredPoints.filter { !Self.touches($0.second, trickled) }.map(\.p95Ms)
        let cleanP95 = median(clean), slowP95 = median(slow)
        let limit = 2 * cleanP95 + 5
        print(
            "SlowClients: 200 connections opened during setup (\(report.connected) connected, at least \(report.fewestOpen) open at every check, \(report.reconnects) reconnects), \(trickled.count) trickling phases of \(Int(phase)) s, \(report.bytesSent) bytes one at a time; normal users' p95 (median of per-second p95s) \(String(format: "%.2f", slowP95)) ms in trickling seconds vs \(String(format: "%.2f", cleanP95)) ms in clean seconds (limit \(String(format: "%.2f", limit)) ms; \(slow.count) vs \(clean.count) seconds)"
        )
        #expect(!trickled.isEmpty, "no slow phase fitted in the run")
        #expect(report.fewestOpen >= 200, "all 200 slow connections must stay open, trickling and paused")
        #expect(report.reconnects == 0, "the server closed \(report.reconnects) slow connections")
        #expect(clean.count >= 2 && slow.count >= 2, "too few seconds on each side to compare: \(slow.count) slow, \(clean.count) clean")
        #expect(slowP95 <= limit, "p95 with slow clients \(slowP95) ms > 2x clean \(cleanP95) ms + 5 ms")
    }

    static func seconds(_ d: Duration) -> Double {
        d / .seconds(1)
    }

}

/// Slowloris: N keep-alive connections that each send `GET /health/live` one byte per interval, request after
/// request, reconnecting when the server closes. Bounded in time; closes everything it opened.
final class SlowClientSwarm: Sendable {
    struct Report: Sendable {
        var connected = 0
        /// The fewest connections open at the start of any trickling round or phase, before any reconnect.
        var fewestOpen = Int.max
        var bytesSent = 0
        var reconnects = 0
    }

    let port: Int
    let connections: Int
    let byteInterval: Duration
    static let request = Array("GET /health/live HTTP/1.1\r\nHost: slow-client\r\nUser-Agent: slowloris\r\n\r\n".utf8)

    init(port: Int, connections: Int, byteInterval: Duration) {
        self.port = port
        self.connections = connections
        self.byteInterval = byteInterval
    }

    /// Discards whatever the server answers.
    private final class Sink: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    private func connect() async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Sink()) }
            }
            .connect(host: "127.0.0.1", port: self.port).get()
    }

    /// Opens every connection at once, then trickles bytes during each of `phases` (load seconds on `timeline`,
    /// marked there) and leaves them idle in between; closes everything at the end. Connection i sends its next byte
    /// in slot i % 10 of each interval, so the writes are spread evenly rather than arriving as one burst of 200; the
    /// writes of a slot go to each event loop in one task.
    func run(phases: [ClosedRange<Double>], timeline: LoadTimeline) async throws -> Report {
        var report = Report()
        var channels: [(any Channel)?] = Array(repeating: nil, count: self.connections)
        var positions = Array(repeating: 0, count: self.connections)
        defer { for channel in channels { channel?.close(promise: nil) } }
        for i in channels.indices {
            channels[i] = try await self.connect()
            report.connected += 1
        }
        timeline.mark(PerformanceSuite.FaultScenarios.Event.slowClientsConnected, detail: "\(report.connected) connections, idle")
        let slots = 10
        let tick = self.byteInterval / slots
        func open() -> Int { channels.reduce(0) { $0 + (($1?.isActive ?? false) ? 1 : 0) } }
        for phase in phases {
            try await timeline.sleep(untilSecond: phase.lowerBound)
            report.fewestOpen = min(report.fewestOpen, open())  // after the pause, idle in mid-headers
            timeline.mark(PerformanceSuite.FaultScenarios.Event.slowClientsTrickling, detail: "one byte per connection every \(self.byteInterval)")
            var next = ContinuousClock.now
            var slot = 0
            while (timeline.now() ?? 0) < phase.upperBound {
                if slot == 0 { report.fewestOpen = min(report.fewestOpen, open()) }  // before any reconnect
                var writes: [ObjectIdentifier: (loop: any EventLoop, items: [(any Channel, UInt8)])] = [:]
                for i in stride(from: slot, to: channels.count, by: slots) {
                    if let channel = channels[i], channel.isActive {
                        let byte = Self.request[positions[i]]
                        positions[i] = (positions[i] + 1) % Self.request.count
                        writes[ObjectIdentifier(channel.eventLoop), default: (channel.eventLoop, [])].items.append((channel, byte))
                        report.bytesSent += 1
                    } else {
                        channels[i]?.close(promise: nil)
                        channels[i] = try? await self.connect()
                        positions[i] = 0
                        report.reconnects += 1
                    }
                }
                for (_, batch) in writes {
                    let items = batch.items
                    batch.loop.execute {
                        for (channel, byte) in items { channel.writeAndFlush(ByteBuffer(bytes: [byte]), promise: nil) }
                    }
                }
                slot = (slot + 1) % slots
                next += tick
                try await Task.sleep(until: next)
            }
            timeline.mark(PerformanceSuite.FaultScenarios.Event.slowClientsPaused)
        }
        if report.fewestOpen == Int.max { report.fewestOpen = 0 }
        return report
    }
}
