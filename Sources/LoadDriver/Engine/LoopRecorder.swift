import Histogram

/// Histograms and counters of one event loop. Confined to that loop (plain non-Sendable class); at the end its
/// contents are copied into a Sendable ``LoopReport`` and merged with the other loops'. Package-visible so tests can
/// drive it with direct calls and chosen times.
package final class LoopRecorder {
    /// 1 µs .. 1 hour, 3 significant digits.
    static func makeHistogram(digits: SignificantDigits = .three) -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: digits)
    }

    struct EndpointCounters: Sendable {
        var requests = 0
        var succeeded = 0
        var failed = 0
    }

    /// One second of the load phase (warm-up included).
    package struct Second: Sendable {
        package var requests = 0
        /// Failed requests completed in this second, of every kind.
        package var errors = 0
        /// The same failures by kind (they add up to `errors`).
        package var errorsByKind: [ErrorKind: Int] = [:]
        var histogram: Histogram<UInt64>? = nil

        /// Adds another loop's same second.
        mutating func add(_ other: Second) {
            requests += other.requests
            errors += other.errors
            errorsByKind.merge(other.errorsByKind, uniquingKeysWith: +)
            if let h = other.histogram {
                if histogram == nil { histogram = h } else { histogram!.add(h) }
            }
        }

        /// The loops' seconds added up, second by second.
        package static func merged(_ loops: [[Second]]) -> [Second] {
            var seconds: [Second] = []
            for loop in loops {
                if seconds.count < loop.count {
                    seconds.append(contentsOf: repeatElement(Second(), count: loop.count - seconds.count))
                }
                for (i, s) in loop.enumerated() { seconds[i].add(s) }
            }
            return seconds
        }
    }

    let maxSamplesPerKind: Int
    var latency = LoopRecorder.makeHistogram()
    var service = LoopRecorder.makeHistogram()
    var endpointLatency: [Histogram<UInt64>]
    var endpointService: [Histogram<UInt64>]
    var endpointCounters: [EndpointCounters]
    var lag = LoopRecorder.makeHistogram()
    /// Every measured send's delay after its slot (open models), whatever the cause.
    var scheduleLag = LoopRecorder.makeHistogram()
    /// Index = status code (0..<600), others in `otherStatus`.
    var statusCounts = [Int](repeating: 0, count: 600)
    var otherStatus: [Int: Int] = [:]
    var errorCounts = [Int](repeating: 0, count: ErrorKind.allCases.count)
    var samples: [ErrorSample] = []
    var samplesPerKind = [Int](repeating: 0, count: ErrorKind.allCases.count)
    var setupFailures = 0
    var warmUpFailures = 0
    var seconds: [Second] = []
    var succeeded = 0
    var failed = 0
    var late = 0
    var dropped = 0
    var skipped = 0
    var connectionsOpened = 0
    var reconnects = 0
    var lastMeasuredCompletion: Int64 = 0
    /// Requests written, by mix endpoint index / setup step index (all phases).
    var sentMix: [Int]
    var sentSetup: [Int]

    package init(endpoints: Int, setupSteps: Int, maxSamplesPerKind: Int) {
        self.sentMix = Array(repeating: 0, count: endpoints)
        self.sentSetup = Array(repeating: 0, count: setupSteps)
        self.maxSamplesPerKind = maxSamplesPerKind
        self.endpointLatency = (0..<endpoints).map { _ in LoopRecorder.makeHistogram() }
        self.endpointService = (0..<endpoints).map { _ in LoopRecorder.makeHistogram() }
        self.endpointCounters = Array(repeating: EndpointCounters(), count: endpoints)
    }

    @inline(__always)
    static func clampMicros(_ nanos: Int64) -> UInt64 {
        nanos <= 0 ? 0 : min(UInt64(nanos / 1000), 3_600_000_000)
    }

    @inline(__always)
    func second(at now: Int64, loadStart: Int64) -> Int {
        now < loadStart ? 0 : Int((now - loadStart) / 1_000_000_000)
    }

    /// A completed response or failed request in the load phase; `failure` is the kind of a failed one (`nil` when
    /// it succeeded).
    @inline(__always)
    package func recordRequest(
        endpoint: Int, measured: Bool, failure: ErrorKind?, correctedNanos: Int64?, serviceNanos: Int64?, now: Int64,
        loadStart: Int64
    ) {
        let ok = failure == nil
        // Time series covers warm-up and measured seconds.
        let s = self.second(at: now, loadStart: loadStart)
        if s >= self.seconds.count {
            self.seconds.append(contentsOf: repeatElement(Second(), count: s - self.seconds.count + 1))
        }
        self.seconds[s].requests += 1
        if let failure {
            self.seconds[s].errors += 1
            self.seconds[s].errorsByKind[failure, default: 0] += 1
        }
        if let c = correctedNanos {
            if self.seconds[s].histogram == nil { self.seconds[s].histogram = LoopRecorder.makeHistogram(digits: .two) }
            self.seconds[s].histogram!.record(Self.clampMicros(c))
        }
        guard measured else {
            if !ok { self.warmUpFailures += 1 }
            return
        }
        self.lastMeasuredCompletion = max(self.lastMeasuredCompletion, now)
        if ok { self.succeeded += 1 } else { self.failed += 1 }
        self.endpointCounters[endpoint].requests += 1
        if ok { self.endpointCounters[endpoint].succeeded += 1 } else { self.endpointCounters[endpoint].failed += 1 }
        if let c = correctedNanos {
            let us = Self.clampMicros(c)
            self.latency.record(us)
            self.endpointLatency[endpoint].record(us)
        }
        if let sv = serviceNanos {
            let us = Self.clampMicros(sv)
            self.service.record(us)
            self.endpointService[endpoint].record(us)
        }
    }

    @inline(__always)
    func recordStatus(_ status: Int) {
        if status >= 0 && status < 600 { self.statusCounts[status] += 1 } else { self.otherStatus[status, default: 0] += 1 }
    }

    package func recordError(kind: ErrorKind, measured: Bool, atSeconds: Double, endpoint: String, detail: @autoclosure () -> String) {
        let k = ErrorKind.allCases.firstIndex(of: kind)!
        if measured { self.errorCounts[k] += 1 }
        if self.samplesPerKind[k] < self.maxSamplesPerKind {
            self.samplesPerKind[k] += 1
            self.samples.append(ErrorSample(kind: kind, atSeconds: atSeconds, endpoint: endpoint, detail: detail()))
        }
    }

    /// Requests and errors so far (warm-up included), and the seconds in `window` added up: the live progress.
    func progress(window: Range<Int>) -> (requests: Int, errors: Int, window: Second) {
        var requests = 0
        var errors = 0
        var recent = Second()
        for (index, second) in self.seconds.enumerated() {
            requests += second.requests
            errors += second.errors
            if window.contains(index) { recent.add(second) }
        }
        return (requests, errors, recent)
    }

    package func report(stopReason: String) -> LoopReport {
        var statuses = self.otherStatus
        for (code, n) in self.statusCounts.enumerated() where n > 0 { statuses[code] = n }
        var errors: [ErrorKind: Int] = [:]
        for (i, n) in self.errorCounts.enumerated() where n > 0 { errors[ErrorKind.allCases[i]] = n }
        return LoopReport(
            latency: self.latency, service: self.service, endpointLatency: self.endpointLatency,
            endpointService: self.endpointService, endpointCounters: self.endpointCounters, lag: self.lag,
            scheduleLag: self.scheduleLag,
            statusCounts: statuses, errorCounts: errors, samples: self.samples, setupFailures: self.setupFailures,
            warmUpFailures: self.warmUpFailures, seconds: self.seconds, succeeded: self.succeeded, failed: self.failed,
            late: self.late, dropped: self.dropped, skipped: self.skipped, connectionsOpened: self.connectionsOpened,
            reconnects: self.reconnects, lastMeasuredCompletion: self.lastMeasuredCompletion, stopReason: stopReason,
            sentMix: self.sentMix, sentSetup: self.sentSetup)
    }
}

/// Sendable snapshot of one loop's recorder.
package struct LoopReport: Sendable {
    var latency: Histogram<UInt64>
    var service: Histogram<UInt64>
    var endpointLatency: [Histogram<UInt64>]
    var endpointService: [Histogram<UInt64>]
    var endpointCounters: [LoopRecorder.EndpointCounters]
    var lag: Histogram<UInt64>
    var scheduleLag: Histogram<UInt64>
    var statusCounts: [Int: Int]
    var errorCounts: [ErrorKind: Int]
    var samples: [ErrorSample]
    var setupFailures: Int
    var warmUpFailures: Int
    package var seconds: [LoopRecorder.Second]
    var succeeded: Int
    var failed: Int
    var late: Int
    var dropped: Int
    var skipped: Int
    var connectionsOpened: Int
    var reconnects: Int
    var lastMeasuredCompletion: Int64
    var stopReason: String
    var sentMix: [Int]
    var sentSetup: [Int]
}
