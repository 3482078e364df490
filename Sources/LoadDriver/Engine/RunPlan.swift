import Atomics
import NIOCore
import NIOHTTP1

/// A request template compiled once per run: placeholders split, method parsed, endpoint index assigned.
package struct CompiledRequest: Sendable {
    let name: String
    /// Index into the run's endpoint list (per-endpoint stats); -1 for setup requests.
    let endpointIndex: Int
    let method: HTTPMethod
    let path: CompiledTemplateString
    let headers: [(name: String, value: CompiledTemplateString)]
    let body: CompiledTemplateString?
    let template: RequestTemplate
    let addContentLength: Bool
    let addContentType: Bool
    /// Index of this request's encoded bytes in a user's cache (unique across the setup steps and the mix).
    let slot: Int
    var needsBody: Bool { !self.template.captures.isEmpty }

    package init(_ template: RequestTemplate, endpointIndex: Int, slot: Int) {
        self.name = template.name
        self.slot = slot
        self.endpointIndex = endpointIndex
        self.method = HTTPMethod(rawValue: template.method.uppercased())
        self.path = CompiledTemplateString(template.path)
        self.headers = template.headers.sorted { $0.key < $1.key }.map { ($0.key, CompiledTemplateString($0.value)) }
        self.body = template.body.map(CompiledTemplateString.init)
        self.template = template
        let lower = Set(template.headers.keys.map { $0.lowercased() })
        let hasBodyMethod = self.method != .GET && self.method != .HEAD && self.method != .DELETE
        self.addContentLength = !lower.contains("content-length") && (template.body != nil || hasBodyMethod)
        self.addContentType = template.body != nil && !lower.contains("content-type")
    }
}

/// Everything the per-loop workers share; immutable except the atomics.
final class RunPlan: Sendable {
    let scenario: Scenario
    let runId: String
    let address: SocketAddress
    let hostHeader: String
    let setup: [CompiledRequest]
    let mix: [CompiledRequest]
    /// Cumulative mix weights, normalised to 1.
    let cumulativeWeights: [Double]
    let endpointNames: [String]
    let schedule: ArrivalSchedule
    let connectTimeout: TimeAmount
    let requestTimeoutNanos: Int64
    let maxErrorSamplesPerKind: Int
    /// Uptime ns when the runner started; the hard cap counts from here.
    let runStartNanos: Int64
    let hardDeadlineNanos: Int64
    /// Paced sends are released on this grid (uptime ns); 0 = at their exact intended times.
    let timerResolutionNanos: Int64
    /// Measured sends so far (for `maxRequests`).
    let measuredSends = ManagedAtomic<Int>(0)
    /// Set when the request budget is exhausted; every loop then stops.
    let budgetExhausted = ManagedAtomic<Bool>(false)

    init(scenario: Scenario, runId: String, address: SocketAddress, hostHeader: String, connectTimeout: TimeAmount,
         maxErrorSamplesPerKind: Int, runStartNanos: Int64, timerResolutionNanos: Int64 = 0) {
        self.scenario = scenario
        self.runId = runId
        self.address = address
        self.hostHeader = hostHeader
        self.connectTimeout = connectTimeout
        self.maxErrorSamplesPerKind = maxErrorSamplesPerKind
        self.runStartNanos = runStartNanos
        self.timerResolutionNanos = timerResolutionNanos
        self.hardDeadlineNanos = runStartNanos + Int64(scenario.effectiveWallClockCapSeconds * 1e9)
        self.requestTimeoutNanos = Int64(scenario.requestTimeoutSeconds * 1e9)
        var names: [String] = []
        var mix: [CompiledRequest] = []
        for entry in scenario.mix {
            let index: Int
            if let existing = names.firstIndex(of: entry.request.name) {
                index = existing
            } else {
                index = names.count
                names.append(entry.request.name)
            }
            mix.append(CompiledRequest(entry.request, endpointIndex: index, slot: scenario.setup.count + mix.count))
        }
        self.mix = mix
        self.endpointNames = names
        self.setup = scenario.setup.enumerated().map { CompiledRequest($1, endpointIndex: -1, slot: $0) }
        let total = scenario.mix.reduce(0) { $0 + $1.weight }
        var acc = 0.0
        self.cumulativeWeights = scenario.mix.map {
            acc += $0.weight / total
            return acc
        }
        self.schedule = ArrivalSchedule(model: scenario.load, users: scenario.users)
    }

    /// Per-user variables with `{{runId}}` / `{{userIndex}}` rendered.
    func variables(forUser index: Int) -> [String: String] {
        let base = ["runId": self.runId, "userIndex": String(index)]
        var out = base
        for (k, v) in self.scenario.userVariables {
            out[k] = CompiledTemplateString(v).render(base)
        }
        return out
    }
}

/// Load-phase timeline in uptime nanoseconds, fixed when load starts.
struct Timeline: Sendable {
    let loadStart: Int64
    let measureStart: Int64
    let measureEnd: Int64  // Int64.max when unbounded

    init(loadStart: Int64, scenario: Scenario) {
        self.loadStart = loadStart
        self.measureStart = loadStart + Int64(scenario.warmUpSeconds * 1e9)
        if let d = scenario.durationSeconds {
            self.measureEnd = self.measureStart + Int64(d * 1e9)
        } else {
            self.measureEnd = Int64.max
        }
    }

    func isMeasured(_ t: Int64) -> Bool { t >= self.measureStart && t < self.measureEnd }
}

/// When the driver releases a send due at `intended` (uptime ns): the end of the timer tick it falls in, i.e. the next
/// multiple of `resolution` at or after `intended`; `intended` itself when `resolution` is 0.
@inline(__always)
package func timerReleaseTime(forIntended intended: Int64, resolution: Int64) -> Int64 {
    guard resolution > 0, intended > 0 else { return intended }
    let remainder = intended % resolution
    return remainder == 0 ? intended : intended - remainder + resolution
}

@inline(__always)
func nowNanos() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }
