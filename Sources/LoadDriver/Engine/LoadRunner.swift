import Foundation
import Histogram
import Logging
import NIOCore
import NIOPosix

/// Runs a ``Scenario`` against an HTTP server and returns its ``LoadTestResult``.
///
/// ```swift
/// let runner = LoadRunner(try .init(url: "http://127.0.0.1:8002"))
/// let result = try await runner.run(.baseline)
/// ```
///
/// Per request, everything happens on the user's event loop: scheduling (NIO scheduled callbacks at the intended
/// send time), encoding, decoding, and recording into that loop's histograms; loops are merged at the end.
public struct LoadRunner: Sendable {
    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs `scenario` to completion. Always stops by itself: at the end of the duration, when `maxRequests` were
    /// sent, or at the scenario's hard wall-clock cap.
    ///
    /// - Throws: ``LoadDriverError`` for an invalid scenario or threshold, a refused remote target, a target that
    ///   accepts no connection at the start, or a file-descriptor limit too low for the user count. Failures of the
    ///   server during the run are never thrown; they are in the result.
    public func run(_ scenario: Scenario) async throws(LoadDriverError) -> LoadTestResult {
        let config = self.configuration
        let logger = config.logger
        do { try scenario.validate() } catch { throw LoadDriverError(.invalidScenario, error.description) }
        let thresholds: [Threshold]
        do { thresholds = try Threshold.parseAll(scenario.thresholds) } catch {
            throw LoadDriverError(.invalidScenario, error.description)
        }
        if !config.allowRemote && !config.target.isLoopback {
            throw LoadDriverError(
                .remoteTargetRefused,
                "refusing to load \(config.target): only loopback targets (127.0.0.0/8, ::1, localhost) are allowed unless allowRemote / --allow-remote is set")
        }
        if config.checkFileDescriptorLimit {
            try ProcessResources.raiseFileDescriptorLimit(needed: ProcessResources.fileDescriptorsNeeded(users: scenario.users))
        }
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(config.target.host, port: config.target.port)
        } catch {
            throw LoadDriverError(.targetUnreachable, "cannot resolve \(config.target.host): \(error)")
        }

        let threads = max(1, config.eventLoopThreads)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { group.shutdownGracefully { _ in } }
        let loops = Array(group.makeIterator())
        let connectTimeout = TimeAmount.nanoseconds(Int64(config.connectTimeoutSeconds * 1e9))

        // Preflight: a target that is down fails fast with a clear message.
        do {
            try await SimpleHTTPClient.probe(address: address, on: loops[0], timeout: connectTimeout).get()
        } catch {
            throw LoadDriverError(.targetUnreachable, "target \(config.target) is not accepting connections: \(error)")
        }

        // The machine's loopback speed, measured while the target is still idle.
        let loopbackRoundTrips =
            config.calibrationSeconds > 0 ? await LoopbackCalibration.measure(seconds: config.calibrationSeconds) : nil

        let runStart = nowNanos()
        let runId = Self.makeRunId()
        // A negative, NaN or infinite tick from a caller means exact times, not a crash; a tick is at most 1 s.
        let timerResolutionMs = config.timerResolutionMs.isFinite ? min(max(0, config.timerResolutionMs), 1000) : 0
        let plan = RunPlan(
            scenario: scenario, runId: runId, address: address, hostHeader: config.target.hostHeader,
            connectTimeout: connectTimeout, maxErrorSamplesPerKind: config.maxErrorSamplesPerKind, runStartNanos: runStart,
            timerResolutionNanos: Int64((timerResolutionMs * 1e6).rounded()))
        logger.info(
            "load run starting",
            metadata: ["scenario": "\(scenario.name)", "users": "\(scenario.users)", "target": "\(config.target)", "runId": "\(runId)"])

        // One worker per loop, created on its loop.
        var workers: [NIOLoopBound<LoopWorker>] = []
        for (i, loop) in loops.enumerated() {
            let indices = Array(stride(from: i, to: scenario.users, by: threads))
            do {
                let bound = try await loop.submit {
                    NIOLoopBound(LoopWorker(loop: loop, plan: plan, userIndices: indices), eventLoop: loop)
                }.get()
                workers.append(bound)
            } catch {
                throw LoadDriverError(.internalError, "cannot start worker: \(error)")
            }
        }

        if let stopper = config.stopper {
            let drainSeconds = stopper.drainSeconds
            let started = workers
            stopper.install { reason in
                for (bound, loop) in zip(started, loops) {
                    loop.execute { bound.value.interrupt(reason: reason, drainSeconds: drainSeconds) }
                }
            }
        }
        defer { config.stopper?.uninstall() }

        // Ramp-up and setup.
        let setupDeadline = min(
            runStart + Int64((scenario.rampUpSeconds + config.setupTimeoutSeconds) * 1e9), plan.hardDeadlineNanos)
        var ready = 0
        for (bound, loop) in zip(workers, loops) {
            let f = loop.flatSubmit { bound.value.connectAll(rampStart: runStart, setupDeadline: setupDeadline) }
            ready += (try? await f.get()) ?? 0
        }
        let setupSeconds = Double(nowNanos() - runStart) / 1e9
        logger.info("users ready", metadata: ["ready": "\(ready)", "of": "\(scenario.users)", "setupSeconds": "\(setupSeconds)"])
        if ready < scenario.users {
            logger.warning("not every user finished setup; starting anyway", metadata: ["ready": "\(ready)"])
        }

        // Pool monitoring: an initial sample, then one per second during the load phase.
        let monitor = config.poolMonitorPath.map {
            PoolMonitor(address: address, hostHeader: config.target.hostHeader, path: $0, loop: loops[0], timeout: connectTimeout)
        }
        let initialPool = await monitor?.sample()

        let loadStart = nowNanos() + 20_000_000
        config.onLoadStart?(.nanoseconds(loadStart - nowNanos()))
        let timeline = Timeline(loadStart: loadStart, scenario: scenario)
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let cpu0 = ProcessResources.cpuTime()
        let machine0 = MachineCPU.now()
        let loopCPU0 = await Self.loopCPU(loops)
        var reportFutures: [EventLoopFuture<LoopReport>] = []
        for (bound, loop) in zip(workers, loops) {
            reportFutures.append(loop.flatSubmit { bound.value.startLoad(timeline: timeline) })
        }
        let pollTask: Task<[PoolMonitor.Sample], Never>? = monitor.map { monitor in
            Task { await monitor.pollEverySecond(from: loadStart) }
        }
        let cpuTask = Task { await CPUMonitor.sampleEverySecond(from: loadStart) }
        let progressWorkers = workers
        let progressTask = config.onProgress.map { report in
            Task {
                await Self.reportProgress(
                    every: config.progressIntervalSeconds, loadStart: loadStart, scenario: scenario,
                    workers: progressWorkers, loops: loops, monitor: monitor, report: report)
            }
        }
        defer { progressTask?.cancel() }

        var reports: [LoopReport] = []
        for (i, f) in reportFutures.enumerated() {
            do {
                reports.append(try await f.get())
            } catch {
                let bound = workers[i]
                loops[i].execute { bound.value.abort(reason: "error") }
                throw LoadDriverError(.internalError, "event loop failed: \(error)")
            }
        }
        let loadEnd = nowNanos()
        let cpu1 = ProcessResources.cpuTime()
        let machine1 = MachineCPU.now()
        let loopCPU1 = await Self.loopCPU(loops)
        pollTask?.cancel()
        cpuTask.cancel()
        let cpuSamples = await cpuTask.value
        var poolSamples = await pollTask?.value ?? []
        if let final = await monitor?.sample() { poolSamples.append(final) }

        var environment = config.environment
        environment.target = config.target.description
        if let loopbackRoundTrips { environment.loopbackRoundTripsPerSecond = loopbackRoundTrips }
        var result = LoadTestResult.assemble(
            scenario: scenario, environment: environment, runId: runId, startedAt: startedAt, reports: reports,
            endpointNames: plan.endpointNames, timeline: timeline, loadEnd: loadEnd,
            initialPool: initialPool, poolSamples: poolSamples, failedPolls: monitor?.failedPolls ?? 0, cpuSamples: cpuSamples,
            cpu: (cpu1.user - cpu0.user, cpu1.system - cpu0.system), driverLimitedLagMs: config.driverLimitedLagMs,
            eventLoopThreads: threads, setupSeconds: setupSeconds, thresholds: thresholds,
            maxSamplesPerKind: config.maxErrorSamplesPerKind)
        if let machine0, let machine1 {
            result.driver.machine = machine1.usage(since: machine0, cpus: ProcessInfo.processInfo.activeProcessorCount)
        }
        if scenario.load.isOpen { result.driver.timerResolutionMs = timerResolutionMs }
        if let loopCPU0, let loopCPU1, loopCPU1.at > loopCPU0.at {
            let wall = Double(loopCPU1.at - loopCPU0.at)
            let percent = zip(loopCPU0.nanos, loopCPU1.nanos).map { Double($1 &- $0) / wall * 100 }
            result.driver.applyLoopCPU(percent, bound: config.driverLimitedLoopCPUPercent)
        }
        result.settleVerdict()
        logger.info(
            "load run finished",
            metadata: ["requests": "\(result.summary.requests)", "achievedRate": "\(result.summary.achievedRate)",
                       "passed": "\(result.passed)", "driverLimited": "\(result.driver.driverLimited)"])
        return result
    }

    /// Calls `report` every `interval` seconds of the load phase until cancelled.
    private static func reportProgress(
        every interval: Double, loadStart: Int64, scenario: Scenario, workers: [NIOLoopBound<LoopWorker>],
        loops: [any EventLoop], monitor: PoolMonitor?, report: @Sendable (RunProgress) -> Void
    ) async {
        let period = max(0.1, interval.isFinite ? interval : 2)
        let windowSeconds = max(1, Int(period.rounded()))
        var tick = 1.0
        while !Task.isCancelled {
            let due = loadStart + Int64(tick * period * 1e9)
            tick += 1
            let wait = due - nowNanos()
            if wait > 0 {
                do { try await Task.sleep(nanoseconds: UInt64(wait)) } catch { return }
            }
            let elapsed = Double(nowNanos() - loadStart) / 1e9
            let current = Int(elapsed)
            let window = max(0, current - windowSeconds)..<current
            var requests = 0
            var errors = 0
            var recent = LoopRecorder.Second()
            for (bound, loop) in zip(workers, loops) {
                guard let part = try? await loop.submit({ bound.value.progress(window: window) }).get() else { return }
                requests += part.requests
                errors += part.errors
                recent.add(part.window)
            }
            let covered = Double(window.count)
            var progress = RunProgress(
                elapsedSeconds: elapsed,
                plannedSeconds: scenario.durationSeconds.map { $0 + scenario.warmUpSeconds },
                inWarmUp: elapsed < scenario.warmUpSeconds, requests: requests, errors: errors,
                windowRate: covered > 0 ? Double(recent.requests) / covered : nil,
                targetRate: scenario.load.isOpen ? scenario.targetRate : nil,
                windowP95Ms: recent.histogram.map { Double($0.valueAtPercentile(95)) / 1000 },
                poolFields: monitor?.latest)
            progress.window = recent.histogram
            report(progress)
        }
    }

    /// Each loop thread's CPU time so far (read on the loop itself) and when it was read; `nil` when unavailable.
    private static func loopCPU(_ loops: [any EventLoop]) async -> (at: Int64, nanos: [UInt64])? {
        var nanos: [UInt64] = []
        for loop in loops {
            guard let value = try? await loop.submit({ ProcessResources.threadCPUNanos() }).get() else { return nil }
            nanos.append(value)
        }
        return (nowNanos(), nanos)
    }

    static func makeRunId() -> String {
        let f = DateFormatter()
        f.dateFormat = "MMddHHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        let suffix = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        return f.string(from: Date()) + suffix
    }
}
