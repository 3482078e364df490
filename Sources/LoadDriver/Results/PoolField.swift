/// The pool-metrics contract between a target and the driver.
///
/// When ``LoadRunner/Configuration/poolMonitorPath`` is set, the driver polls that path every second. The answer is a
/// JSON object; its numeric fields are recorded, with nested objects flattened as `parent.child`, in ``PoolReport``
/// and in each second of the time series. Thresholds can name any field as `pool.<field>`. The fields below mean
/// something to the driver: summaries, progress, capacity steps and reports show them.
public enum PoolField {
    /// Connections the pool may open.
    public static let maximumConnections = "maximumConnections"
    /// Connections leased at the poll.
    public static let inUse = "inUse"
    /// Callers queued for a connection at the poll.
    public static let waiters = "waiters"
    /// Mean leased connections over the last second, as a fraction of `maximumConnections` (0...1).
    public static let utilization = "utilization"

    /// These fields first, then the others by name.
    public static func displayOrder(_ fields: some Sequence<String>) -> [String] {
        let known = [maximumConnections, inUse, waiters, utilization]
        let present = Set(fields)
        return known.filter(present.contains) + present.subtracting(known).sorted()
    }
}
