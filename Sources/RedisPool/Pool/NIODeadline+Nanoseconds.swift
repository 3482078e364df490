import NIOCore

extension NIODeadline {
    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    @inline(__always)
    func nanoseconds(since earlier: NIODeadline) -> Int64 {
        (self - earlier).nanoseconds
    }
}

extension Duration {
    /// The duration in nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        if seconds >= Int64.max / 1_000_000_000 { return .max }
        if seconds <= Int64.min / 1_000_000_000 { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
