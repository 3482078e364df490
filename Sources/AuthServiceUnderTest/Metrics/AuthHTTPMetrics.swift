import Prometheus
import RedisPool

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP request metrics of one server instance, kept in that instance's own `PrometheusCollectorRegistry` (the global
/// `MetricsSystem` is never bootstrapped by the library, so many servers can live in one process).
///
/// - `auth_http_requests_total{route, status}` counter
/// - `auth_http_request_duration_seconds{route}` histogram
/// - `auth_redis_pool_<field>` gauges mirroring the pool's `PoolMetrics`, refreshed on every `/metrics` scrape
///
/// Counters for the known routes and usual statuses are created up front so the hot path only does a dictionary
/// lookup and an atomic increment.
package final class AuthHTTPMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// swift-metrics factory over ``registry`` for components that accept one.
    package let factory: PrometheusMetricsFactory
    private let routes: [AuthRoute: RouteMetrics]
    private let fallback: RouteMetrics

    private static let knownStatuses = [200, 201, 204, 400, 401, 404, 405, 409, 413, 415, 429, 500, 503]
    private static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    private static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "auth",
            subsystem: "http",
            metricName: "requests",
            unitName: "total",
            helpText: "HTTP requests answered, by route and status."
        )
    }

    private static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "auth",
            subsystem: "http",
            metricName: "request_duration",
            unitName: "seconds",
            helpText: "Time from routing a request to its response head, by route."
        )
    }

    private struct RouteMetrics: Sendable {
        let route: String
        let duration: DurationHistogram
        let counters: [Int: Counter]
    }

    /// Metrics for every ``AuthRoute`` (labelled by its path) and `unmatched`, in `registry`.
    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
        func make(_ route: String) -> RouteMetrics {
            var counters: [Int: Counter] = [:]
            for status in Self.knownStatuses {
                counters[status] = registry.makeCounter(
                    descriptor: Self.requestsDescriptor,
                    labels: [("route", route), ("status", String(status))]
                )
            }
            let duration = registry.makeDurationHistogram(
                descriptor: Self.durationDescriptor,
                labels: [("route", route)],
                buckets: Self.durationBuckets
            )
            return RouteMetrics(route: route, duration: duration, counters: counters)
        }
        var routes: [AuthRoute: RouteMetrics] = [:]
        for route in AuthRoute.allCases { routes[route] = make(route.path) }
        self.routes = routes
        self.fallback = make("unmatched")
    }

    /// Records one answered request; `route` `nil` (no route matched, or the request did not parse) is `unmatched`.
    package func record(route: AuthRoute?, status: Int, nanoseconds: Int64) {
        let route = route.flatMap { self.routes[$0] } ?? self.fallback
        if let counter = route.counters[status] {
            counter.increment()
        } else {
            self.registry.makeCounter(
                descriptor: Self.requestsDescriptor,
                labels: [("route", route.route), ("status", String(status))]
            ).increment()
        }
        route.duration.record(.nanoseconds(nanoseconds))
    }

    /// Mirrors every numeric top-level field of `PoolMetrics` as gauge `auth_redis_pool_<snake_case field>`
    /// (booleans as 0/1), so Prometheus sees the same snapshot `/health/redis` serves.
    package func updatePoolGauges(_ metrics: PoolMetrics) {
        guard let data = try? JSONEncoder().encode(metrics),
            let object = try? JSONDecoder().decode([String: TopLevelScalar].self, from: data)
        else { return }
        for (key, value) in object {
            let number: Double
            switch value {
            case .bool(let bool): number = bool ? 1 : 0
            case .number(let double): number = double
            case .other: continue
            }
            self.registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "auth",
                    subsystem: "redis_pool",
                    metricName: Self.snakeCase(key),
                    unitName: "",
                    helpText: "RedisConnectionPool metric \(key) at scrape time."
                )
            ).set(number)
        }
    }

    /// Prometheus text exposition format (version 0.0.4).
    package func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }

    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result.append("_")
                result.append(contentsOf: character.lowercased())
            } else if character.isLetter || character.isNumber {
                result.append(character)
            } else {
                result.append("_")
            }
        }
        return result
    }
}

/// A top-level JSON value of `PoolMetrics`, as far as gauges care.
private enum TopLevelScalar: Decodable {
    case bool(Bool)
    case number(Double)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .other
        }
    }
}
