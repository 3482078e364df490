import Foundation
import Histogram
import LoadDriver

/// A result's corrected-latency distribution in HdrHistogram's percentile-distribution text format (`.hgrm`, as
/// written by `outputPercentileDistribution` with values in milliseconds), readable by HdrHistogram's plotter and
/// tools such as HdrHistogramVisualizer.
public enum HgrmExport {
    /// The `.hgrm` text of `result.latencyDistribution`; `nil` when the result has no distribution.
    /// From the stored histogram (``LoadTestResult/histograms``) through HdrHistogram's own percentile output when
    /// the result has one, else rebuilt from the stored distribution.
    public static func text(for result: LoadTestResult) -> String? {
        if let encoded = result.histograms?["latency"], let histogram = try? HdrHistogramCodec.decode(encoded),
            histogram.totalCount > 0
        {
            var out = ""
            histogram.outputPercentileDistribution(to: &out, outputValueUnitScalingRatio: 1000)
            return out
        }
        let points = result.latencyDistribution
        guard !points.isEmpty else { return nil }
        var out = pad("Value", 12) + " " + pad("Percentile", 14) + " " + pad("TotalCount", 10) + " " + pad("1/(1-Percentile)", 14) + "\n\n"
        for p in points {
            let fraction = p.percentile / 100
            if p.percentile < 100 {
                out += String(format: "%12.3f %2.12f %10ld %14.2f\n", p.valueMs, fraction, p.totalCount, 1 / (1 - fraction))
            } else {
                out += String(format: "%12.3f %2.12f %10ld\n", p.valueMs, fraction, p.totalCount)
            }
        }
        let stats = result.summary.latencyMs
        let total = points.last?.totalCount ?? stats.count
        let maxMs = max(stats.max, points.last?.valueMs ?? 0)
        let layout = bucketLayout(highestTrackableValue: recordedHighestTrackableMicroseconds, significantDigits: 3)
        out += String(format: "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", stats.mean, stats.stddev)
        out += String(format: "#[Max     = %12.3f, Total count    = %12ld]\n", maxMs, total)
        out += String(format: "#[Buckets = %12ld, SubBuckets     = %12ld]\n", layout.buckets, layout.subBuckets)
        return out
    }

    /// `<result file stem>.hgrm`, or `<scenario>_<runId>.hgrm` for a result not read from a file.
    public static func fileName(for reported: ReportedResult) -> String {
        if let source = reported.source {
            let stem = ((source as NSString).lastPathComponent as NSString).deletingPathExtension
            if !stem.isEmpty { return stem + ".hgrm" }
        }
        let r = reported.result
        return Markup.slug(r.scenario.name) + (r.runId.isEmpty ? "" : "_" + r.runId) + ".hgrm"
    }

    /// The driver records latencies in microseconds from 1 µs up to one hour (see `LoopRecorder`).
    static let recordedHighestTrackableMicroseconds: UInt64 = 3_600_000_000

    /// HdrHistogram's bucket layout for a lowest discernible value of 1.
    package static func bucketLayout(highestTrackableValue: UInt64, significantDigits: Int) -> (buckets: Int, subBuckets: Int) {
        let largestSingleUnit = 2 * UInt64(pow(10, Double(significantDigits)))
        let subBucketCountMagnitude = Int(ceil(log2(Double(largestSingleUnit))))
        let subBucketCount = 1 << max(subBucketCountMagnitude, 1)
        var smallestUntrackable = UInt64(subBucketCount)
        var buckets = 1
        while smallestUntrackable <= highestTrackableValue {
            if smallestUntrackable > UInt64.max / 2 {
                buckets += 1
                break
            }
            smallestUntrackable <<= 1
            buckets += 1
        }
        return (buckets, subBucketCount)
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
