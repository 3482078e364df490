/// Something that happened to the system under test during a run, such as a fault injected or cleared, placed on
/// the result's time line so charts and checks can line it up with the per-second series.
public struct RunEvent: Codable, Sendable, Equatable {
    /// Short name, e.g. `redis killed`.
    public var name: String
    /// Seconds since the load started (second 0 of `timeSeries`, warm-up included).
    public var atSeconds: Double
    /// Optional detail, e.g. `SIGKILL pid 1234`.
    public var detail: String?

    public init(name: String, atSeconds: Double, detail: String? = nil) {
        self.name = name
        self.atSeconds = atSeconds
        self.detail = detail
    }
}
