import NIOCore
import NIOPosix

/// Runs the users of one event loop: ramp-up, the load phase, timeouts, stop and drain, then reports.
///
/// Confined to `loop` (a plain non-Sendable class). The runner reaches it only through `NIOLoopBound` and
/// `loop.execute`/`submit`. The users' wake-ups share one NIO callback, armed at the earliest (``UserTimers``).
/// Paced and arrival-rate users on a timer tick connect through the worker's ``TickPoller``, which that callback
/// polls on every tick.
final class LoopWorker: NIOScheduledCallbackHandler {
    let loop: any EventLoop
    let plan: RunPlan
    let recorder: LoopRecorder
    private(set) var users: [VirtualUser] = []
    private(set) var timeline: Timeline?
    private(set) var stopping = false
    private var finished = false
    private var stopReason = "duration"
    var inFlight = 0
    private var readyCount = 0
    private let readyPromise: EventLoopPromise<Int>
    private let finishPromise: EventLoopPromise<LoopReport>
    private var drainDeadline: Int64 = .max
    private var ticker: Scheduled<Void>?
    static let tickNanos: Int64 = 50_000_000

    private var timers = UserTimers()
    /// The one NIO callback for `timers`, and its deadline (`.max` when none is armed).
    private var armedTimer: NIOScheduledCallback?
    private var armedAt: Int64 = .max
    private var firingTimers = false
    private var dueUsers: [Int32] = []
    /// The paced users' sockets, read on each tick; nil for closed-loop users and exact-time (resolution 0) runs,
    /// which use SwiftNIO channels.
    #if os(Linux)
    let poller: TickPoller?
    #else
    let poller: Never?
    #endif

    init(loop: any EventLoop, plan: RunPlan, userIndices: [Int]) {
        self.loop = loop
        self.plan = plan
        self.recorder = LoopRecorder(endpoints: plan.endpointNames.count, setupSteps: plan.setup.count, maxSamplesPerKind: plan.maxErrorSamplesPerKind)
        self.readyPromise = loop.makePromise(of: Int.self)
        self.finishPromise = loop.makePromise(of: LoopReport.self)
        #if os(Linux)
        self.poller = plan.scenario.load.isOpen && plan.timerResolutionNanos > 0 ? try? TickPoller() : nil
        #else
        self.poller = nil
        #endif
        self.users = userIndices.enumerated().map {
            VirtualUser(index: $0.element, position: $0.offset, plan: plan, loop: loop, worker: self)
        }
    }

    // MARK: Users' timers

    /// Wakes `user` (``VirtualUser/timerFired()``) at `deadline` (uptime ns) or on the first loop turn after it.
    func wake(_ user: VirtualUser, at deadline: Int64) {
        guard !self.finished else { return }
        self.timers.schedule(user: user.position, at: deadline)
        if !self.firingTimers, deadline < self.armedAt { self.armTimer(at: deadline) }
    }

    private func armTimer(at deadline: Int64) {
        self.armedTimer?.cancel()
        self.armedAt = deadline
        self.armedTimer = try? self.loop.assumeIsolated().scheduleCallback(
            at: .uptimeNanoseconds(UInt64(max(0, deadline))), handler: self)
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.armedTimer = nil
        self.armedAt = .max
        guard !self.finished else { return }
        self.firingTimers = true
        self.dueUsers.removeAll(keepingCapacity: true)
        self.timers.popDue(now: nowNanos(), into: &self.dueUsers)
        for position in self.dueUsers { self.users[Int(position)].timerFired() }
        // Sends first, then the responses that arrived since the last tick: a user whose slot came due while its
        // request was out sends as soon as the poll delivers that response.
        self.poller?.poll()
        self.firingTimers = false
        self.armNext()
    }

    /// Arms the callback at the earliest user wake-up, and with a poller at the next tick at the latest.
    private func armNext() {
        var next = self.timers.earliest ?? .max
        if self.poller != nil {
            next = min(next, timerReleaseTime(forIntended: nowNanos() + 1, resolution: self.plan.timerResolutionNanos))
        }
        if next < self.armedAt { self.armTimer(at: next) }
    }

    func didCancelScheduledCallback(eventLoop: some EventLoop) {}

    func secondsSinceLoadStart(_ now: Int64) -> Double {
        Double(now - (self.timeline?.loadStart ?? self.plan.runStartNanos)) / 1e9
    }

    /// Connects users progressively (user i at rampUp * i / users) and runs their setup. The future completes when
    /// every user of this loop is ready, or at `setupDeadline` with those that are.
    func connectAll(rampStart: Int64, setupDeadline: Int64) -> EventLoopFuture<Int> {
        let total = max(1, self.plan.scenario.users)
        let ramp = self.plan.scenario.rampUpSeconds
        for user in self.users {
            let at = rampStart + Int64(ramp * 1e9 * Double(user.index) / Double(total))
            if at <= nowNanos() {
                user.connect()
            } else {
                self.loop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(UInt64(at))) { user.connect() }
            }
        }
        if self.users.isEmpty { self.markReady(0) }
        self.armNext()
        self.loop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(UInt64(setupDeadline))) { [self] in
            self.markReady(self.readyCount)
        }
        self.scheduleTick()
        return self.readyPromise.futureResult
    }

    private var readyDone = false
    private func markReady(_ count: Int) {
        guard !self.readyDone else { return }
        self.readyDone = true
        self.readyPromise.succeed(count)
    }

    func userReady() {
        self.readyCount += 1
        if self.readyCount == self.users.count { self.markReady(self.readyCount) }
    }

    /// Starts the load phase at `timeline.loadStart`; the future completes with this loop's report once stopped
    /// and drained.
    func startLoad(timeline: Timeline) -> EventLoopFuture<LoopReport> {
        self.timeline = timeline
        self.loop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, timeline.loadStart)))) { [self] in
            for user in self.users { user.startLoad() }
        }
        return self.finishPromise.futureResult
    }

    private func scheduleTick() {
        self.ticker = self.loop.assumeIsolated().scheduleTask(in: .nanoseconds(Self.tickNanos)) { [self] in
            self.tick()
        }
    }

    private func tick() {
        guard !self.finished else { return }
        let now = nowNanos()
        for user in self.users where user.inFlight { user.checkTimeout(now: now) }
        self.poller?.expireConnects(now: now)
        if !self.stopping {
            if now >= self.plan.hardDeadlineNanos {
                self.requestStop(reason: "wallClockCap")
            } else if self.plan.budgetExhausted.load(ordering: .relaxed) {
                self.requestStop(reason: "maxRequests")
            } else if let t = self.timeline, now >= t.measureEnd {
                self.requestStop(reason: "duration")
            }
        }
        if self.stopping && (self.inFlight <= 0 || now >= self.drainDeadline || now >= self.plan.hardDeadlineNanos + 2_000_000_000) {
            self.finish()
            return
        }
        self.scheduleTick()
    }

    /// Stops issuing requests; in-flight requests get up to the request timeout to finish.
    func requestStop(reason: String) {
        guard !self.stopping else { return }
        self.stopping = true
        self.stopReason = reason
        self.drainDeadline = nowNanos() + self.plan.requestTimeoutNanos + 200_000_000
        if reason == "wallClockCap" { self.drainDeadline = min(self.drainDeadline, nowNanos() + 1_000_000_000) }
        for user in self.users { user.dropBacklog() }
        // A stop before load start (wall-clock cap during setup) must still release the runner.
        self.markReady(self.readyCount)
        if self.timeline == nil { self.finish() }
    }

    func requestFinished() {
        if self.stopping && self.inFlight <= 0 { self.finish() }
    }

    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.ticker?.cancel()
        self.armedTimer?.cancel()
        self.armedTimer = nil
        self.timers.removeAll()
        for user in self.users { user.close() }
        self.finishPromise.succeed(self.recorder.report(stopReason: self.stopReason))
    }

    /// This loop's share of the live progress (see ``LoopRecorder/progress(window:)``).
    func progress(window: Range<Int>) -> (requests: Int, errors: Int, window: LoopRecorder.Second) {
        self.recorder.progress(window: window)
    }

    /// Stops sending at once and gives the requests in flight at most `drainSeconds` (``RunStopper``).
    func interrupt(reason: String, drainSeconds: Double) {
        self.requestStop(reason: reason)
        self.drainDeadline = min(self.drainDeadline, nowNanos() + Int64(drainSeconds * 1e9))
    }

    /// Stops everything now (runner-side failsafe or cancellation).
    func abort(reason: String) {
        self.requestStop(reason: reason)
        self.finish()
    }
}
