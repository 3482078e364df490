import LoadDriver

/// Request mixes written as text (`--mix verify=90,login=5,refresh=5` or `--mix 'GET:/=1'`): the auth service's
/// named requests, or plain `METHOD:/path` requests, each with a positive weight.
public struct AuthMix: Sendable, Equatable {
    /// The named requests: `verify`, `login`, `refresh`, `register` and `live`.
    public static let named: [String: RequestTemplate] = [
        "verify": .authVerify,
        "login": .authLogin,
        "refresh": .authRefresh,
        "register": .authRegister,
        "live": .authLive,
    ]

    public var mix: [WeightedRequest]
    /// The per-user setup the mix needs: register + login when a named request other than `live` is in it.
    public var setup: [RequestTemplate]

    /// Parses `name=weight` entries separated by commas; a name is one of ``named`` (case-insensitive) or
    /// `METHOD:/path`.
    public init(parsing text: String) throws(LoadDriverError) {
        var mix: [WeightedRequest] = []
        var needsAccount = false
        for entry in text.split(separator: ",") {
            guard let eq = entry.lastIndex(of: "=") else {
                throw LoadDriverError(.invalidScenario, "mix entry '\(entry)' needs =weight, e.g. verify=90,login=5,refresh=5")
            }
            let key = entry[..<eq].trimmingCharacters(in: .whitespaces)
            guard let weight = Double(entry[entry.index(after: eq)...].trimmingCharacters(in: .whitespaces)), weight > 0 else {
                throw LoadDriverError(.invalidScenario, "mix entry '\(entry)': the weight must be a positive number")
            }
            if let request = Self.named[key.lowercased()] {
                mix.append(WeightedRequest(weight: weight, request: request))
                needsAccount = needsAccount || request.name != RequestTemplate.authLive.name
                continue
            }
            let parts = key.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix("/") else {
                throw LoadDriverError(.invalidScenario,
                    "mix entry '\(key)': use \(Self.named.keys.sorted().joined(separator: ", ")) or METHOD:/path")
            }
            let method = parts[0].uppercased()
            let path = String(parts[1])
            mix.append(WeightedRequest(weight: weight, request: RequestTemplate(
                name: method == "GET" ? path : "\(method) \(path)", method: method, path: path)))
        }
        if mix.isEmpty { throw LoadDriverError(.invalidScenario, "the mix is empty") }
        self.mix = mix
        self.setup = needsAccount ? Scenario.authServiceSetup : []
    }

    /// One named request (`--endpoint verify`), or ``init(parsing:)``'s mix; `verify` when both are nil.
    public init(endpoint: String?, mix: String?) throws(LoadDriverError) {
        switch (endpoint, mix) {
        case (.some, .some):
            throw LoadDriverError(.invalidScenario, "give either --endpoint or --mix, not both")
        case (_, .some(let text)):
            try self.init(parsing: text)
        case (let endpoint, nil):
            let name = endpoint ?? "verify"
            guard Self.named[name.lowercased()] != nil else {
                throw LoadDriverError(.invalidScenario,
                    "unknown endpoint '\(name)'; known: \(Self.named.keys.sorted().joined(separator: ", "))")
            }
            try self.init(parsing: "\(name)=1")
        }
    }
}
