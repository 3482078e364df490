/// A tiny deterministic PRNG (SplitMix64, Steele/Lea/Flood 2014) so fuzz runs are reproducible from one seed.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    mutating func bytes(_ count: Int, in range: ClosedRange<UInt8> = 0...255) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: range, using: &self) }
    }
    mutating func printable(_ count: Int) -> String {
        String(decoding: bytes(count, in: 0x21...0x7E), as: UTF8.self)
    }
    /// Bytes for a header value: printable ASCII (70%), ASCII with non-ASCII mixed in (27%) — valid multi-byte
    /// UTF-8, lone continuation bytes, truncated sequences, overlongs, surrogates, 0xFE/0xFF — or any byte but CR/LF
    /// with the odd control byte (3%, which the HTTP parser rejects).
    mutating func headerValue(_ count: Int) -> [UInt8] {
        let nonASCII: [[UInt8]] = [Array("é".utf8), Array("名前".utf8), Array("😀".utf8), [0xFF], [0xFE], [0x80], [0xBF, 0x80],
                                   [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80]]
        let mode = int(0...99)
        var value: [UInt8] = []
        while value.count < count {
            switch mode {
            case 0..<70: value.append(UInt8.random(in: 0x20...0x7E, using: &self))
            case 70..<97: value += chance(30) ? pick(nonASCII) : [UInt8.random(in: 0x20...0x7E, using: &self)]
            default: value.append(chance(5) ? pick([0x01, 0x07, 0x09, 0x0B, 0x1B, 0x7F]) : UInt8.random(in: 0x20...0xFF, using: &self))
            }
        }
        return value
    }
}
