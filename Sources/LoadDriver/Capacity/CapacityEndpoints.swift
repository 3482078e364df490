import Foundation

/// Request mixes for `loaddriver capacity`: one endpoint (`--endpoint verify`) or a weighted mix
/// (`--mix verify=90,login=5,refresh=5`) of the auth service's endpoints, with the setup they need.
public enum CapacityEndpoints {
    /// Named requests: the auth service's endpoints plus `live` (`GET /health/live`, no setup).
    public static let known: [String: RequestTemplate] = [
        "verify": .authVerify,
        "login": .authLogin,
        "refresh": .authRefresh,
        "register": .authRegister,
        "live": RequestTemplate(name: "live", method: "GET", path: "/health/live", expectedStatus: [200]),
    ]

    /// The mix and the per-user setup it needs (register + login when any request uses the user's token or account).
    public static func mix(endpoint: String?, mix: String?) throws(LoadDriverError) -> (mix: [WeightedRequest], setup: [RequestTemplate]) {
        if endpoint != nil && mix != nil {
            throw LoadDriverError(.invalidScenario, "give either --endpoint or --mix, not both")
        }
        var weighted: [WeightedRequest] = []
        if let mix {
            for part in mix.split(separator: ",") {
                let pieces = part.split(whereSeparator: { $0 == "=" || $0 == ":" }).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pieces.count == 2, let weight = Double(pieces[1]), weight > 0 else {
                    throw LoadDriverError(.invalidScenario, "bad mix entry '\(part)': expected name=weight, e.g. verify=90,login=5,refresh=5")
                }
                weighted.append(WeightedRequest(weight: weight, request: try template(pieces[0])))
            }
            if weighted.isEmpty { throw LoadDriverError(.invalidScenario, "the mix is empty") }
        } else {
            weighted = [WeightedRequest(weight: 1, request: try template(endpoint ?? "verify"))]
        }
        let needsAccount = weighted.contains { $0.request.name != "live" }
        return (weighted, needsAccount ? Scenario.authServiceSetup : [])
    }

    static func template(_ name: String) throws(LoadDriverError) -> RequestTemplate {
        guard let t = known[name.lowercased()] else {
            throw LoadDriverError(.invalidScenario, "unknown endpoint '\(name)'; known: \(known.keys.sorted().joined(separator: ", "))")
        }
        return t
    }
}
