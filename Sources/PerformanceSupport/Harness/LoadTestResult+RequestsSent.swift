import LoadDriver

extension LoadTestResult {
    /// Requests that reached the server, by endpoint, over the whole run: each ready user's setup, the warm-up and
    /// the measured window. TEMPORARY estimate (warm-up split by mix weights) until the driver reports exact counts.
    var requestsSentByEndpoint: [String: Int] {
        var counts: [String: Int] = [:]
        for (name, stats) in endpoints { counts[name, default: 0] += stats.requests }
        let readyUsers = scenario.users - errors.setupFailures
        for step in scenario.setup { counts[step.name, default: 0] += readyUsers }
        let warmUpRequests = timeSeries.filter(\.warmUp).reduce(0) { $0 + $1.requests }
        let totalWeight = scenario.mix.reduce(0) { $0 + $1.weight }
        if warmUpRequests > 0, totalWeight > 0 {
            for entry in scenario.mix {
                counts[entry.request.name, default: 0] += Int((Double(warmUpRequests) * entry.weight / totalWeight).rounded())
            }
        }
        return counts
    }
}
