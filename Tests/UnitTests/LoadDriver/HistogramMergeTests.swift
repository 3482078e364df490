import Foundation
import Histogram
import LoadDriver
import LoadReports
import Testing

/// Full histograms in results: the HdrHistogram encoding round-trips, and merging shards gives the percentiles of
/// one histogram over the union of their values.
@Suite("Histograms in results and merging")
struct HistogramMergeTests {
    static func histogram(_ values: [UInt64]) -> Histogram<UInt64> {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for v in values { _ = h.record(v) }
        return h
    }

    static func values(seed: UInt64, count: Int) -> [UInt64] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Mostly 0.2-5 ms, a tail to 2 s, in µs.
            let unit = Double(state >> 11) / Double(1 << 53)
            return UInt64(200 + pow(unit, 8) * 2_000_000)
        }
    }

    @Test func theEncodingRoundTripsEveryBucket() throws {
        let original = Self.histogram(Self.values(seed: 7, count: 50_000) + [1, 2, 3_599_999_999])
        let text = HdrHistogramCodec.encode(original)
        #expect(text.count < 16_000, "encoded size \(text.count)")
        let decoded = try HdrHistogramCodec.decode(text)
        #expect(decoded.totalCount == original.totalCount)
        #expect(Array(decoded.recordedValues().map { [$0.value, $0.count] }) == Array(original.recordedValues().map { [$0.value, $0.count] }))
        for p in [0.0, 50, 90, 99, 99.9, 99.99] {
            #expect(decoded.valueAtPercentile(p) == original.valueAtPercentile(p), "p\(p)")
        }
        // The exact maximum is not part of the encoding: it comes back at its bucket's resolution (0.1%).
        let maxError = abs(Double(decoded.valueAtPercentile(100)) - Double(original.valueAtPercentile(100)))
        #expect(maxError <= Double(original.valueAtPercentile(100)) * 0.001)
        // The wrapper HdrHistogram's decoders expect: the V2 compressed cookie, a zlib stream.
        let bytes = [UInt8](Data(base64Encoded: text)!)
        #expect(Array(bytes.prefix(4)) == [0x1c, 0x84, 0x93, 0x14])
        #expect(bytes[8] == 0x78)
        #expect(throws: HdrHistogramCodec.DecodingError.self) { try HdrHistogramCodec.decode("AAAA") }
        // `.hgrm` comes from HdrHistogram's own percentile output of the stored histogram.
        var result = ReportFixtures.result(name: "Hgrm", seed: 1)
        result.histograms = ["latency": text]
        var expected = ""
        original.outputPercentileDistribution(to: &expected, outputValueUnitScalingRatio: 1000)
        #expect(HgrmExport.text(for: result) == expected)
    }

    @Test func mergedShardsHaveThePercentilesOfTheUnion() throws {
        let a = Self.values(seed: 1, count: 20_000)
        let b = Self.values(seed: 2, count: 30_000).map { $0 * 3 }
        func shard(_ values: [UInt64], _ name: String) -> LoadTestResult {
            var result = ReportFixtures.result(name: "Sharded", seed: 1)
            let h = Self.histogram(values)
            result.runId = name
            result.summary.requests = values.count
            result.summary.succeeded = values.count
            result.summary.failed = 0
            result.summary.achievedRate = Double(values.count) / 10
            result.histograms = ["latency": HdrHistogramCodec.encode(h), "serviceTime": HdrHistogramCodec.encode(h)]
            result.scenario.thresholds = ["p(99.99) < 10s", "p(50) < 1ms"]
            return result
        }
        let merged = try LoadTestResult.merged([shard(a, "s1"), shard(b, "s2")])
        let union = Self.histogram(a + b)
        #expect(merged.summary.requests == 50_000)
        #expect(merged.summary.achievedRate == 5_000)
        #expect(merged.summary.latencyMs.p50 == Double(union.valueAtPercentile(50)) / 1000)
        #expect(merged.summary.latencyMs.p99 == Double(union.valueAtPercentile(99)) / 1000)
        #expect(merged.summary.latencyMs.max == Double(union.max) / 1000)
        let p9999 = try #require(merged.thresholds.first { $0.expression == "p(99.99) < 10s" })
        #expect(p9999.actual == Double(union.valueAtPercentile(99.99)) / 1000, "any percentile, from the merged histogram")
        #expect(merged.passed == (Double(union.valueAtPercentile(50)) / 1000 < 1))
        #expect(merged.environment.extra["mergedFrom"] == "s1,s2")
        // The merged histogram is stored too, so merged results merge again.
        let again = try HdrHistogramCodec.decode(try #require(merged.histograms?["latency"]))
        #expect(again.totalCount == union.totalCount)
    }

    @Test func aResultWithoutHistogramsCannotBeMerged() {
        var old = ReportFixtures.result(name: "Old", seed: 1)
        old.histograms = nil
        #expect(throws: LoadTestResult.MergeError.self) { try LoadTestResult.merged([old, old]) }
    }
}
