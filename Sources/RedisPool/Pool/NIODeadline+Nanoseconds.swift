import NIOCore

extension NIODeadline {
    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    @inline(__always)
    func nanoseconds(since earlier: NIODeadline) -> Int64 {
        (self - earlier).nanoseconds
    }
}

extension Duration {
    /// The duration in nanoseconds, truncated and clamped to `Int64` (NIO's `TimeAmount(_:)`).
    var nanosecondsClamped: Int64 { TimeAmount(self).nanoseconds }
}
