import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One virtual user: one keep-alive connection, at most one request in flight, its own variables and timetable.
///
/// Confined to its event loop: every method runs on `loop` (callbacks come from the user's own channel and its
/// worker, which also runs its timers), so it is a plain non-Sendable class; it crosses into `@Sendable` NIO APIs only
/// wrapped in `NIOLoopBound`.
final class VirtualUser {
    let index: Int
    /// Position in the worker's `users`.
    let position: Int
    let plan: RunPlan
    let loop: any EventLoop
    unowned let worker: LoopWorker
    private(set) var variables: [String: String]
    private var rng: UInt64

    private var handler: (any UserConnection)?
    private var pendingHandler: UserConnectionHandler?
    private var connecting = false
    private var everConnected = false
    private var reconnectDelayMs: Int64 = 0

    private var tracker: SlotTracker
    private var closedWantsSend = false
    /// ``SlotTracker/skipped`` already added to the recorder.
    private var skippedCounted = 0
    private(set) var loadStarted = false

    private(set) var inFlight = false
    private var currentRequest: CompiledRequest?
    private var currentIsSetup = false
    private var currentIntended: Int64 = 0
    private(set) var currentSent: Int64 = 0
    private var currentMeasured = false

    private var setupStep = 0
    private(set) var setupDone = false

    /// Each request's encoded bytes for the current variables, by `CompiledRequest.slot`; cleared when a capture
    /// changes a variable.
    private var encodedRequests: [ByteBuffer?]

    init(index: Int, position: Int, plan: RunPlan, loop: any EventLoop, worker: LoopWorker) {
        self.index = index
        self.position = position
        self.plan = plan
        self.loop = loop
        self.worker = worker
        self.variables = plan.variables(forUser: index)
        self.encodedRequests = Array(repeating: nil, count: plan.setup.count + plan.mix.count)
        self.rng = 0x9E37_79B9_7F4A_7C15 &+ UInt64(index) &* 0xBF58_476D_1CE4_E5B9
        self.tracker = SlotTracker(skipsMissedSlots: plan.scenario.load.skipsMissedSlots)
        self.tracker.connectionUnavailable()
    }

    private var isOpenModel: Bool { self.plan.scenario.load.isOpen }
    private var recorder: LoopRecorder { self.worker.recorder }

    private var available: Bool {
        self.handler != nil && self.setupDone && !self.inFlight && self.loadStarted
    }

    // MARK: Connection

    func connect() {
        guard !self.connecting, self.handler == nil, !self.worker.stopping else { return }
        self.connecting = true
        #if os(Linux)
        if let poller = self.worker.poller {
            do {
                _ = try TickConnection.connect(user: self, to: self.plan.address, timeout: self.plan.connectTimeout, poller: poller)
            } catch {
                // Reported on the next loop turn, as a failed NIO connect would be, so a reconnect cannot recurse.
                self.loop.assumeIsolated().execute { [self] in self.connectFailed(error) }
            }
            return
        }
        #endif
        let bound = NIOLoopBound(self, eventLoop: self.loop)
        ClientBootstrap(group: self.loop)
            .connectTimeout(self.plan.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let user = bound.value
                    let handler = UserConnectionHandler(user: user)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    user.pendingHandler = handler
                }
            }
            .connect(to: self.plan.address)
            .assumeIsolated()
            .whenComplete { result in
                let user = bound.value
                switch result {
                case .success(let channel):
                    let handler = user.pendingHandler
                    user.pendingHandler = nil
                    if let handler {
                        user.connected(handler)
                    } else {
                        user.connecting = false
                        channel.close(promise: nil)
                    }
                case .failure(let error):
                    user.pendingHandler = nil
                    user.connectFailed(error)
                }
            }
    }

    /// `connection` is established.
    func connected(_ connection: any UserConnection) {
        self.connecting = false
        self.recorder.connectionsOpened += 1
        if self.everConnected { self.recorder.reconnects += 1 }
        self.everConnected = true
        self.reconnectDelayMs = 0
        self.handler = connection
        if self.worker.stopping {
            connection.close()
            return
        }
        self.connectionReady()
    }

    /// The connect failed or timed out.
    func connectFailed(_ error: any Error) {
        self.connecting = false
        let kind = classify(error)
        let now = nowNanos()
        let detail = "connect failed: \(error)"
        if !self.loadStarted {
            self.recorder.setupFailures += 1
            self.recorder.recordError(kind: kind, measured: false, atSeconds: self.worker.secondsSinceLoadStart(now),
                                      endpoint: "connect", detail: detail)
        } else if !self.worker.stopping {
            // Charge one waiting request with the failure so a dead server shows up as failures, not only as drops.
            if self.isOpenModel {
                if let slot = self.tracker.consumeDueSlot() {
                    let intended = self.intendedTime(ofSlot: slot)
                    self.recordFailedRequest(kind: kind, endpoint: 0, intended: intended, now: now, detail: detail)
                }
            } else if self.closedWantsSend, self.takeBudget(measured: self.worker.timeline?.isMeasured(now) ?? false) {
                self.closedWantsSend = false
                self.recordFailedRequest(kind: kind, endpoint: 0, intended: now, now: now, detail: detail)
                self.scheduleClosedLoopNext()
            }
        }
        self.scheduleReconnect()
    }

    private func scheduleReconnect() {
        guard !self.worker.stopping else { return }
        let delay = self.reconnectDelayMs
        self.reconnectDelayMs = min(max(delay * 2, 10), 1000)
        if delay == 0 {
            self.connect()
            return
        }
        self.loop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { [self] in
            self.connect()
        }
    }

    /// The connection is usable (new connection, setup finished, or a response completed).
    private func connectionReady() {
        guard self.handler != nil, !self.inFlight else { return }
        if !self.setupDone {
            self.sendSetupStep()
            return
        }
        guard self.loadStarted, !self.worker.stopping else { return }
        if self.isOpenModel {
            self.act(self.tracker.connectionBecameFree())
        } else if self.closedWantsSend {
            self.sendClosedLoop()
        }
    }

    func connectionClosed(_ connection: any UserConnection, error: (any Error)?) {
        guard connection === self.handler else { return }
        self.handler = nil
        if self.loadStarted && self.isOpenModel { self.tracker.connectionUnavailable() }
        if self.inFlight {
            let now = nowNanos()
            let kind = error.map(classify) ?? .connectionReset
            let detail = error.map { "\($0)" } ?? "connection closed by the server before the response"
            self.finishInFlight()
            if self.currentIsSetup {
                self.recorder.setupFailures += 1
                self.recorder.recordError(kind: kind, measured: false, atSeconds: self.worker.secondsSinceLoadStart(now),
                                          endpoint: self.currentRequest?.name ?? "setup", detail: detail)
            } else {
                self.recordFailedRequest(kind: kind, endpoint: self.currentRequest?.endpointIndex ?? 0,
                                         intended: self.currentIntended, now: now, detail: detail, sent: self.currentSent)
                self.worker.requestFinished()
            }
        }
        self.scheduleReconnect()
    }

    func close() {
        self.handler?.close()
    }

    // MARK: Setup

    private func sendSetupStep() {
        guard self.setupStep < self.plan.setup.count else {
            self.setupDone = true
            self.worker.userReady()
            self.connectionReady()
            return
        }
        let request = self.plan.setup[self.setupStep]
        self.send(request, intended: nowNanos(), measured: false, isSetup: true)
    }

    // MARK: Load

    func startLoad() {
        self.loadStarted = true
        guard let timeline = self.worker.timeline else { return }
        if self.isOpenModel {
            self.armSlotTimer(timeline: timeline)
            if self.handler != nil, self.setupDone, !self.inFlight {
                _ = self.tracker.connectionBecameFree()
            }
        } else {
            self.closedWantsSend = true
            if self.available { self.sendClosedLoop() }
        }
    }

    private func intendedTime(ofSlot slot: Int) -> Int64 {
        let offset = self.plan.schedule.nanosecondsOfSlot(slot, user: self.index) ?? 0
        return (self.worker.timeline?.loadStart ?? 0) + offset
    }

    private func armSlotTimer(timeline: Timeline) {
        guard let offset = self.plan.schedule.nanosecondsOfSlot(self.tracker.nextDue, user: self.index) else { return }
        let at = timeline.loadStart + offset
        guard at < timeline.measureEnd, at < self.plan.hardDeadlineNanos else { return }
        self.worker.wake(self, at: timerReleaseTime(forIntended: at, resolution: self.plan.timerResolutionNanos))
    }

    /// The worker's timer for this user fired: a paced slot is due, or a closed-loop think time is over.
    func timerFired() {
        guard !self.worker.stopping, let timeline = self.worker.timeline else { return }
        if self.isOpenModel {
            let action = self.tracker.slotBecameDue()
            self.armSlotTimer(timeline: timeline)
            self.act(action)
        } else {
            self.closedWantsSend = true
            if self.available { self.sendClosedLoop() }
        }
    }

    private func act(_ action: SlotTracker.Action) {
        guard case .send(let slot, let late, let onTime) = action else { return }
        guard self.handler != nil else { return }
        let intended = self.intendedTime(ofSlot: slot)
        let measured = self.worker.timeline?.isMeasured(intended) ?? false
        let skipped = self.tracker.skipped - self.skippedCounted
        self.skippedCounted = self.tracker.skipped
        guard self.takeBudget(measured: measured) else { return }
        let now = nowNanos()
        if measured {
            if late { self.recorder.late += 1 }
            self.recorder.skipped += skipped
            if onTime { self.recorder.lag.record(LoopRecorder.clampMicros(now - intended)) }
            self.recorder.scheduleLag.record(LoopRecorder.clampMicros(now - intended))
        }
        self.send(self.pickRequest(), intended: intended, measured: measured, isSetup: false, now: now)
    }

    /// Counts a measured send against `maxRequests`; false (and a global stop) when the budget is spent.
    private func takeBudget(measured: Bool) -> Bool {
        guard measured, let max = self.plan.scenario.maxRequests else { return true }
        if self.plan.measuredSends.loadThenWrappingIncrement(ordering: .relaxed) >= max {
            self.plan.budgetExhausted.store(true, ordering: .relaxed)
            self.worker.requestStop(reason: "maxRequests")
            return false
        }
        return true
    }

    private func sendClosedLoop() {
        guard self.available, !self.worker.stopping, let timeline = self.worker.timeline else { return }
        let now = nowNanos()
        if now >= timeline.measureEnd { return }
        let measured = timeline.isMeasured(now)
        guard self.takeBudget(measured: measured) else { return }
        self.closedWantsSend = false
        self.send(self.pickRequest(), intended: now, measured: measured, isSetup: false, now: now)
    }

    private func scheduleClosedLoopNext() {
        guard case .closedLoop(let think) = self.plan.scenario.load, !self.worker.stopping else { return }
        if think <= 0 {
            self.closedWantsSend = true
            self.sendClosedLoop()
        } else {
            self.worker.wake(self, at: nowNanos() + Int64(think * 1e9))
        }
    }

    @inline(__always)
    private func nextRandom() -> Double {
        // xorshift64*
        self.rng ^= self.rng >> 12
        self.rng ^= self.rng << 25
        self.rng ^= self.rng >> 27
        let v = self.rng &* 2_685_821_657_736_338_717
        return Double(v >> 11) / Double(1 << 53)
    }

    private func pickRequest() -> CompiledRequest {
        let mix = self.plan.mix
        if mix.count == 1 { return mix[0] }
        let r = self.nextRandom()
        for (i, c) in self.plan.cumulativeWeights.enumerated() where r < c { return mix[i] }
        return mix[mix.count - 1]
    }

    // MARK: Request / response

    private func send(_ request: CompiledRequest, intended: Int64, measured: Bool, isSetup: Bool, now: Int64? = nil) {
        guard let handler = self.handler else { return }
        let bytes: ByteBuffer
        if let cached = self.encodedRequests[request.slot] {
            bytes = cached
        } else {
            var buffer = handler.allocator.buffer(capacity: 256)
            do {
                try request.encode(variables: self.variables, host: self.plan.hostHeader, into: &buffer)
            } catch {
                self.requestNotSent(request, intended: intended, isSetup: isSetup, error: error)
                return
            }
            self.encodedRequests[request.slot] = buffer
            bytes = buffer
        }
        self.inFlight = true
        self.currentRequest = request
        self.currentIsSetup = isSetup
        self.currentIntended = intended
        self.currentMeasured = measured
        self.currentSent = now ?? nowNanos()
        if isSetup {
            self.recorder.sentSetup[self.setupStep] += 1
        } else {
            self.worker.inFlight += 1
            self.recorder.sentMix[request.endpointIndex] += 1
        }
        handler.send(bytes, isHEAD: request.method == .HEAD, collectBody: request.needsBody)
    }

    /// A request whose rendering broke the HTTP framing (a variable holding CR/LF): counted as a failed request of
    /// kind `other` and never sent; the connection stays free for the next one (on the next loop turn, so a
    /// backlog of such requests cannot recurse).
    private func requestNotSent(_ request: CompiledRequest, intended: Int64, isSetup: Bool, error: any Error) {
        let now = nowNanos()
        if isSetup {
            self.recorder.setupFailures += 1
            self.recorder.recordError(kind: .other, measured: false, atSeconds: self.worker.secondsSinceLoadStart(now),
                                      endpoint: request.name, detail: "\(error)")
            self.setupStep += 1
        } else {
            self.recordFailedRequest(kind: .other, endpoint: request.endpointIndex, intended: intended, now: now,
                                     detail: "\(error)")
        }
        self.loop.assumeIsolated().execute {
            if isSetup || !self.setupDone {
                self.connectionReady()
            } else if self.isOpenModel {
                self.act(self.tracker.connectionBecameFree())
            } else {
                self.scheduleClosedLoopNext()
            }
        }
    }

    private func finishInFlight() {
        self.inFlight = false
        if !self.currentIsSetup { self.worker.inFlight -= 1 }
    }

    /// A response arrived at `now` (uptime ns).
    func responseReceived(status: Int, body: ByteBuffer?, connectionWillClose: Bool, at now: Int64) {
        guard self.inFlight, let request = self.currentRequest else { return }
        self.finishInFlight()
        if connectionWillClose {
            // The server closes after this response: the connection is gone for the next request.
            self.handler = nil
            if self.loadStarted && self.isOpenModel { self.tracker.connectionUnavailable() }
            self.scheduleReconnect()
        }
        var ok = request.template.isExpected(status: status)
        var kind: ErrorKind = .other
        var detail = ""
        if !ok {
            kind = status >= 500 ? .http5xx : (status >= 400 ? .http4xx : .other)
            detail = "HTTP \(status)" + (body.map { ": " + String(buffer: $0).prefix(200) } ?? "")
        } else if !request.template.captures.isEmpty {
            if let missing = self.applyCaptures(request.template.captures, body: body) {
                ok = false
                kind = .unexpectedBody
                detail = "missing JSON string field '\(missing)' in: " + (body.map { String(String(buffer: $0).prefix(200)) } ?? "<empty body>")
            }
        }
        if self.currentIsSetup {
            if !ok {
                self.recorder.setupFailures += 1
                self.recorder.recordError(kind: kind, measured: false, atSeconds: self.worker.secondsSinceLoadStart(now),
                                          endpoint: request.name, detail: detail)
            }
            self.setupStep += 1
            if !connectionWillClose { self.connectionReady() }
            return
        }
        if self.currentMeasured { self.recorder.recordStatus(status) }
        let loadStart = self.worker.timeline?.loadStart ?? now
        self.recorder.recordRequest(
            endpoint: request.endpointIndex, measured: self.currentMeasured, failure: ok ? nil : kind,
            correctedNanos: now - self.currentIntended, serviceNanos: now - self.currentSent, now: now, loadStart: loadStart)
        if !ok {
            self.recorder.recordError(kind: kind, measured: self.currentMeasured,
                                      atSeconds: self.worker.secondsSinceLoadStart(now), endpoint: request.name, detail: detail)
        }
        self.worker.requestFinished()
        guard !connectionWillClose, !self.worker.stopping else { return }
        if self.isOpenModel {
            self.act(self.tracker.connectionBecameFree())
        } else {
            self.scheduleClosedLoopNext()
        }
    }

    private func recordFailedRequest(kind: ErrorKind, endpoint: Int, intended: Int64, now: Int64, detail: String, sent: Int64? = nil) {
        let measured = self.worker.timeline?.isMeasured(intended) ?? false
        let name = endpoint < self.plan.endpointNames.count ? self.plan.endpointNames[endpoint] : "?"
        self.recorder.recordRequest(
            endpoint: endpoint, measured: measured, failure: kind, correctedNanos: nil, serviceNanos: nil, now: now,
            loadStart: self.worker.timeline?.loadStart ?? now)
        self.recorder.recordError(kind: kind, measured: measured, atSeconds: self.worker.secondsSinceLoadStart(now),
                                  endpoint: name, detail: detail)
    }

    /// Sets captured variables; returns the first missing field, if any.
    private func applyCaptures(_ captures: [Capture], body: ByteBuffer?) -> String? {
        guard let body, body.readableBytes > 0,
              let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return captures.first?.jsonField }
        for capture in captures {
            var value: Any? = object
            for part in capture.jsonField.split(separator: ".") {
                value = (value as? [String: Any])?[String(part)]
            }
            guard let string = value as? String else { return capture.jsonField }
            if self.variables[capture.variable] != string {
                self.variables[capture.variable] = string
                for i in self.encodedRequests.indices { self.encodedRequests[i] = nil }
            }
        }
        return nil
    }

    /// Called by the worker's sweep: fails the in-flight request if it exceeded the timeout and recycles the connection.
    func checkTimeout(now: Int64) {
        guard self.inFlight, now - self.currentSent > self.plan.requestTimeoutNanos else { return }
        let detail = "no response after \(self.plan.scenario.requestTimeoutSeconds) s"
        self.finishInFlight()
        if self.currentIsSetup {
            self.recorder.setupFailures += 1
            self.recorder.recordError(kind: .timeout, measured: false, atSeconds: self.worker.secondsSinceLoadStart(now),
                                      endpoint: self.currentRequest?.name ?? "setup", detail: detail)
        } else {
            self.recordFailedRequest(kind: .timeout, endpoint: self.currentRequest?.endpointIndex ?? 0,
                                     intended: self.currentIntended, now: now, detail: detail)
            self.worker.requestFinished()
        }
        // Closing triggers connectionClosed (nothing in flight any more) and a reconnect.
        self.handler?.close()
    }

    /// Marks the unsent backlog (due slots in the measured window) as dropped; called when the load phase ends.
    func dropBacklog() {
        guard self.isOpenModel, let timeline = self.worker.timeline else { return }
        let first = self.tracker.nextToSend
        let n = self.tracker.dropBacklog()
        for slot in first..<(first + n) where timeline.isMeasured(self.intendedTime(ofSlot: slot)) {
            self.recorder.dropped += 1
        }
    }
}

/// Maps transport errors to error kinds.
func classify(_ error: any Error) -> ErrorKind {
    if let e = error as? IOError {
        switch e.errnoCode {
        case ECONNREFUSED: return .connectRefused
        case ECONNRESET, EPIPE: return .connectionReset
        case ETIMEDOUT: return .timeout
        default: return .other
        }
    }
    if let e = error as? NIOConnectionError {
        if let first = e.connectionErrors.first { return classify(first.error) }
        return .connectRefused
    }
    if let e = error as? ChannelError {
        switch e {
        case .connectTimeout: return .timeout
        case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed: return .connectionReset
        default: return .other
        }
    }
    return .other
}
