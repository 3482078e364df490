import LoadDriver
import Testing

/// The per-second counts of the loops' recorders, driven by direct calls at chosen times (no clock, no network).
@Suite struct LoopRecorderSeconds {
    static let loadStart: Int64 = 7_000_000_000

    static func record(_ recorder: LoopRecorder, at seconds: Double, _ failure: ErrorKind?, measured: Bool = true) {
        recorder.recordRequest(
            endpoint: 0, measured: measured, failure: failure, correctedNanos: failure == nil ? 2_000_000 : nil,
            serviceNanos: failure == nil ? 1_000_000 : nil, now: loadStart + Int64(seconds * 1e9), loadStart: loadStart)
        if let failure {
            recorder.recordError(kind: failure, measured: measured, atSeconds: seconds, endpoint: "verify", detail: "")
        }
    }

    @Test func failuresAreCountedPerSecondByKindAcrossLoops() {
        // Two loops; at most one sample per kind is kept, which must not limit the counts.
        let a = LoopRecorder(endpoints: 1, setupSteps: 0, maxSamplesPerKind: 1)
        let b = LoopRecorder(endpoints: 1, setupSteps: 0, maxSamplesPerKind: 1)
        // Second 0: a has 2 successes and a timeout (warm-up), b a 503.
        Self.record(a, at: 0.1, nil, measured: false)
        Self.record(a, at: 0.5, nil, measured: false)
        Self.record(a, at: 0.9, .timeout, measured: false)
        Self.record(b, at: 0.2, .http5xx, measured: false)
        // Second 1: nothing. Second 2: a has three 503s and a success, b two 503s and a reset.
        for t in [2.0, 2.3, 2.6] { Self.record(a, at: t, .http5xx) }
        Self.record(a, at: 2.7, nil)
        Self.record(b, at: 2.1, .http5xx)
        Self.record(b, at: 2.4, .connectionReset)
        Self.record(b, at: 2.99, .http5xx)

        let ra = a.report(stopReason: "duration"), rb = b.report(stopReason: "duration")
        #expect(ra.seconds.count == 3 && rb.seconds.count == 3)
        let merged = LoopRecorder.Second.merged([ra.seconds, rb.seconds])
        #expect(merged.map(\.requests) == [4, 0, 7])
        #expect(merged.map(\.errors) == [2, 0, 6])
        #expect(merged[0].errorsByKind == [.timeout: 1, .http5xx: 1])
        #expect(merged[1].errorsByKind.isEmpty)
        #expect(merged[2].errorsByKind == [.http5xx: 5, .connectionReset: 1])
        for second in merged {
            #expect(second.errorsByKind.values.reduce(0, +) == second.errors, "the kinds add up to the total")
        }
    }

    @Test func loopsOfDifferentLengthsMergeSecondBySecond() {
        let short = LoopRecorder(endpoints: 1, setupSteps: 0, maxSamplesPerKind: 10)
        let long = LoopRecorder(endpoints: 1, setupSteps: 0, maxSamplesPerKind: 10)
        Self.record(short, at: 0.5, .other)
        Self.record(long, at: 3.5, .unexpectedBody)
        let merged = LoopRecorder.Second.merged([short.report(stopReason: "duration").seconds, long.report(stopReason: "duration").seconds])
        #expect(merged.count == 4)
        #expect(merged.map(\.errors) == [1, 0, 0, 1])
        #expect(merged[0].errorsByKind == [.other: 1])
        #expect(merged[3].errorsByKind == [.unexpectedBody: 1])
    }
}
