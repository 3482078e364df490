import CoreMetrics
import Metrics

/// Publishes the pool through swift-metrics with OpenTelemetry's `db.client.connection.*` names.
/// Gauges and the timeout counter are refreshed from the pool's tick (every `metricsPublishInterval`), not per lease;
/// the three timers are recorded per event (wait/use per lease when `recordsLeaseTimers`, create per connection).
final class PoolMetricsPublisher: Sendable {
    private let idleCount: Gauge
    private let usedCount: Gauge
    private let maxCount: Gauge
    private let pendingRequests: Gauge
    private let timeouts: Counter
    let waitTime: Timer
    let createTime: Timer
    let useTime: Timer

    init(poolName: String) {
        let pool = ("pool.name", poolName)
        self.idleCount = Gauge(label: "db.client.connection.count", dimensions: [pool, ("state", "idle")])
        self.usedCount = Gauge(label: "db.client.connection.count", dimensions: [pool, ("state", "used")])
        self.maxCount = Gauge(label: "db.client.connection.max", dimensions: [pool])
        self.pendingRequests = Gauge(label: "db.client.connection.pending_requests", dimensions: [pool])
        self.timeouts = Counter(label: "db.client.connection.timeouts", dimensions: [pool])
        self.waitTime = Timer(label: "db.client.connection.wait_time", dimensions: [pool], preferredDisplayUnit: .milliseconds)
        self.createTime = Timer(label: "db.client.connection.create_time", dimensions: [pool], preferredDisplayUnit: .milliseconds)
        self.useTime = Timer(label: "db.client.connection.use_time", dimensions: [pool], preferredDisplayUnit: .milliseconds)
    }

    /// `newTimeouts`: acquire timeouts since the previous publish.
    func publish(_ metrics: PoolMetrics, newTimeouts: Int) {
        idleCount.record(metrics.idle)
        usedCount.record(metrics.inUse)
        maxCount.record(metrics.maximumConnections)
        pendingRequests.record(metrics.waiters)
        if newTimeouts > 0 { timeouts.increment(by: newTimeouts) }
    }
}
