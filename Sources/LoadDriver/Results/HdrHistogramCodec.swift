import Foundation
import Histogram

/// HdrHistogram's V2 encoding of a histogram in its compressed form, base64: what wrk2 and HdrHistogram's log format
/// exchange, so a stored histogram can be read by HdrHistogram's own tools and merged exactly.
///
/// The V2 payload (counts as ZigZag LEB128, runs of empty buckets as one negative number) is wrapped as
/// `encodeIntoCompressedByteBuffer` does: cookie `0x1c849314`, length, then a zlib stream. The stream is written
/// with deflate's stored (uncompressed) blocks: every zlib inflater reads it, and the payload is compact already
/// (a latency histogram of a run is 1-3 KB). Decoding reads stored blocks only; a stream with compressed blocks is
/// reported as unsupported.
public enum HdrHistogramCodec {
    static let encodingCookie: UInt32 = 0x1c84_9313
    static let compressedEncodingCookie: UInt32 = 0x1c84_9314

    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The layout of a histogram's counts array, as HdrHistogram computes it.
    struct Layout {
        let unitMagnitude: Int
        let subBucketHalfCountMagnitude: Int
        let subBucketHalfCount: Int
        let subBucketMask: UInt64
        let leadingZeroCountBase: Int

        init(lowestDiscernibleValue: UInt64, significantDigits: Int) {
            let largestSingleUnit = 2 * Int(pow(10, Double(significantDigits)))
            let subBucketCountMagnitude = Int(ceil(log2(Double(largestSingleUnit))))
            self.subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
            let subBucketCount = 1 << (self.subBucketHalfCountMagnitude + 1)
            self.subBucketHalfCount = subBucketCount / 2
            self.unitMagnitude = Int(floor(log2(Double(max(lowestDiscernibleValue, 1)))))
            self.subBucketMask = UInt64(subBucketCount - 1) << UInt64(self.unitMagnitude)
            self.leadingZeroCountBase = 64 - self.unitMagnitude - self.subBucketHalfCountMagnitude - 1
        }

        func index(of value: UInt64) -> Int {
            let bucket = self.leadingZeroCountBase - (value | self.subBucketMask).leadingZeroBitCount
            let subBucket = Int(value >> UInt64(bucket + self.unitMagnitude))
            return ((bucket + 1) << self.subBucketHalfCountMagnitude) + (subBucket - self.subBucketHalfCount)
        }

        func value(at index: Int) -> UInt64 {
            var bucket = (index >> self.subBucketHalfCountMagnitude) - 1
            var subBucket = (index & (self.subBucketHalfCount - 1)) + self.subBucketHalfCount
            if bucket < 0 {
                subBucket -= self.subBucketHalfCount
                bucket = 0
            }
            return UInt64(subBucket) << UInt64(bucket + self.unitMagnitude)
        }
    }

    /// The histogram's V2 compressed encoding, base64.
    public static func encode(
        _ histogram: Histogram<UInt64>, lowestDiscernibleValue: UInt64 = 1, highestTrackableValue: UInt64 = 3_600_000_000,
        significantDigits: Int = 3
    ) -> String {
        let layout = Layout(lowestDiscernibleValue: lowestDiscernibleValue, significantDigits: significantDigits)
        var counts: [Int: UInt64] = [:]
        for bucket in histogram.recordedValues() {
            counts[layout.index(of: bucket.value), default: 0] += UInt64(bucket.count)
        }
        var payload: [UInt8] = []
        var index = 0
        for (bucketIndex, count) in counts.sorted(by: { $0.key < $1.key }) {
            if bucketIndex > index { writeZigZag(-Int64(bucketIndex - index), to: &payload) }
            writeZigZag(Int64(count), to: &payload)
            index = bucketIndex + 1
        }
        var encoded: [UInt8] = []
        append(encodingCookie, to: &encoded)
        append(UInt32(payload.count), to: &encoded)
        append(UInt32(0), to: &encoded)  // normalizing index offset
        append(UInt32(significantDigits), to: &encoded)
        append(lowestDiscernibleValue, to: &encoded)
        append(highestTrackableValue, to: &encoded)
        append((1.0 as Double).bitPattern, to: &encoded)  // integer-to-double conversion ratio
        encoded += payload
        let stream = zlibStoredStream(encoded)
        var wrapped: [UInt8] = []
        append(compressedEncodingCookie, to: &wrapped)
        append(UInt32(stream.count), to: &wrapped)
        wrapped += stream
        return Data(wrapped).base64EncodedString()
    }

    /// A histogram from ``encode(_:lowestDiscernibleValue:highestTrackableValue:significantDigits:)``'s text.
    public static func decode(_ text: String) throws(DecodingError) -> Histogram<UInt64> {
        guard let data = Data(base64Encoded: text) else { throw DecodingError(description: "not base64") }
        var reader = Reader(bytes: Array(data))
        guard try reader.uint32() == compressedEncodingCookie else {
            throw DecodingError(description: "not a V2 compressed HdrHistogram encoding")
        }
        let length = Int(try reader.uint32())
        let stream = try reader.take(length)
        var inner = Reader(bytes: try inflateStored(stream))
        guard try inner.uint32() == encodingCookie else { throw DecodingError(description: "unknown inner cookie") }
        let payloadLength = Int(try inner.uint32())
        guard try inner.uint32() == 0 else { throw DecodingError(description: "a normalizing index offset is not supported") }
        let digits = Int(try inner.uint32())
        let lowest = try inner.uint64()
        let highest = try inner.uint64()
        _ = try inner.uint64()
        guard (0...5).contains(digits), let significant = SignificantDigits(rawValue: Int8(digits)), lowest >= 1,
            highest >= 2 * lowest
        else { throw DecodingError(description: "bad histogram parameters (\(digits) digits, \(lowest)...\(highest))") }
        var histogram = Histogram<UInt64>(
            lowestDiscernibleValue: lowest, highestTrackableValue: highest, numberOfSignificantValueDigits: significant)
        let layout = Layout(lowestDiscernibleValue: lowest, significantDigits: digits)
        var payload = Reader(bytes: try inner.take(payloadLength))
        var index = 0
        while !payload.atEnd {
            let count = try payload.zigZag()
            if count < 0 {
                index += Int(-count)
            } else {
                if count > 0 { _ = histogram.record(layout.value(at: index), count: UInt64(count)) }
                index += 1
            }
        }
        return histogram
    }

    // MARK: Bytes

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    static func writeZigZag(_ value: Int64, to bytes: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while v != 0
    }

    /// A zlib stream (RFC 1950) of deflate stored blocks (RFC 1951, BTYPE 00).
    static func zlibStoredStream(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let size = min(65_535, data.count - offset)
            let final = offset + size == data.count
            out.append(final ? 1 : 0)
            let length = UInt16(size)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            out += data[offset..<offset + size]
            offset += size
        } while offset < data.count
        append(adler32(data), to: &out)
        return out
    }

    static func inflateStored(_ stream: [UInt8]) throws(DecodingError) -> [UInt8] {
        var reader = Reader(bytes: stream)
        let header = try reader.take(2)
        guard header[0] & 0x0F == 8, (UInt16(header[0]) << 8 | UInt16(header[1])) % 31 == 0 else {
            throw DecodingError(description: "not a zlib stream")
        }
        var out: [UInt8] = []
        var final = false
        while !final {
            let blockHeader = try reader.take(1)[0]
            final = blockHeader & 1 == 1
            guard (blockHeader >> 1) & 3 == 0 else {
                throw DecodingError(description: "deflate-compressed blocks are not supported, only stored blocks")
            }
            let lengths = try reader.take(4)
            let length = Int(lengths[0]) | Int(lengths[1]) << 8
            guard UInt16(length) == ~(UInt16(lengths[2]) | UInt16(lengths[3]) << 8) else {
                throw DecodingError(description: "corrupt stored block length")
            }
            out += try reader.take(length)
        }
        guard try reader.uint32() == adler32(out) else { throw DecodingError(description: "adler-32 mismatch") }
        return out
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { self.offset >= self.bytes.count }

        mutating func take(_ count: Int) throws(DecodingError) -> [UInt8] {
            guard count >= 0, self.offset + count <= self.bytes.count else {
                throw DecodingError(description: "truncated encoding")
            }
            defer { self.offset += count }
            return Array(self.bytes[self.offset..<self.offset + count])
        }

        mutating func uint32() throws(DecodingError) -> UInt32 {
            try self.take(4).reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func uint64() throws(DecodingError) -> UInt64 {
            try self.take(8).reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func zigZag() throws(DecodingError) -> Int64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try self.take(1)[0]
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
                guard shift < 64 else { throw DecodingError(description: "LEB128 value too long") }
            }
            return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
        }
    }
}
