import Foundation
import LoadDriver
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

/// A tiny HTTP server whose latency grows with the arrival rate: responses take `fastDelay` while the rate over the
/// last half second stays at or below `kneeRate` req/s, and `slowDelay` beyond it.
final class KneeServer: Sendable {
    let kneeRate: Double
    let fastDelay: TimeAmount
    let slowDelay: TimeAmount
    private let arrivals = Mutex<[UInt64]>([])
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = Mutex<(any Channel)?>(nil)

    init(kneeRate: Double, fastDelay: TimeAmount = .milliseconds(1), slowDelay: TimeAmount = .milliseconds(40)) {
        self.kneeRate = kneeRate
        self.fastDelay = fastDelay
        self.slowDelay = slowDelay
    }

    /// Arrivals per second over the last 500 ms, including this one.
    func arrive() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        return arrivals.withLock { times in
            times.append(now)
            let cutoff = now &- 500_000_000
            if let first = times.firstIndex(where: { $0 >= cutoff }), first > 0 { times.removeFirst(first) }
            return Double(times.count) * 2
        }
    }

    func start() async throws -> Int {
        let server = self
        let ch = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(KneeHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = ch }
        return ch.localAddress!.port!
    }

    func stop() async {
        let ch = channel.withLock { $0 }
        try? await ch?.close()
        try? await group.shutdownGracefully()
    }
}

private final class KneeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: KneeServer
    var keepAlive = true

    init(server: KneeServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let rate = server.arrive()
            let delay = rate > server.kneeRate ? server.slowDelay : server.fastDelay
            let keepAlive = self.keepAlive
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                let (handler, context) = bound.value
                handler.respond(context: context, keepAlive: keepAlive)
            }
        }
    }

    func respond(context: ChannelHandlerContext, keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Content-Length", "2")])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// The capacity search end to end with the real LoadRunner against ``KneeServer`` (a few seconds).
@Suite struct CapacitySearchAgainstServer {
    @Test(.timeLimit(.minutes(1)))
    func findsTheKneeOfAServerWhoseLatencyGrowsWithRate() async throws {
        let server = KneeServer(kneeRate: 330)
        let port = try await server.start()
        do {
            var runner = LoadRunner.Configuration(target: Target(host: "127.0.0.1", port: port), poolMonitorPath: nil)
            runner.driverLimitedLagMs = 250  // debug builds on a shared 2-core machine: only the server decides here
            runner.logger.logLevel = .warning
            let configuration = CapacitySearch.Configuration(
                thresholds: ["p(95) < 20ms", "failureRate < 1%"],
                mix: [WeightedRequest(weight: 1, request: RequestTemplate(name: "work", path: "/work"))],
                users: 40, startRate: 100, growth: .step(150), maxRate: 1000, stepSeconds: 1.2, warmUpSeconds: 0.6,
                rampUpSeconds: 0.1, requestTimeoutSeconds: 2, bisectionSteps: 0, maxSteps: 6, maxTotalSeconds: 40,
                name: "knee")
            let stepsSeen = NIOLockedValueBox<[Double]>([])
            let report = try await CapacitySearch(configuration, probe: try LoadRunnerProbe(runner)).run { step, result in
                stepsSeen.withLockedValue { $0.append(step.targetRate) }
                #expect(result.scenario.load == .constantArrivalRate(ratePerSecond: step.targetRate))
                return "step-\(step.index).json"
            }
            // 100 and 250 req/s stay under the knee (1 ms); 400 req/s is past it (40 ms).
            #expect(report.steps.map(\.targetRate) == [100, 250, 400])
            #expect(stepsSeen.withLockedValue { $0 } == [100, 250, 400])
            #expect(report.steps.map(\.passed) == [true, true, false], "\(report.steps.map(\.reasons))")
            #expect(report.highestPassingRate == 250)
            #expect(report.lowestFailingRate == 400)
            #expect(report.stopReason == .thresholdBroken)
            #expect(report.steps[2].reasons.contains { $0.hasPrefix("p(95) < 20ms") })
            #expect(report.steps[0].latencyMs.p95 < 20)
            #expect(report.steps.allSatisfy { $0.requests > 0 && $0.resultFile != nil })
            #expect(report.target == "127.0.0.1:\(port)")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
