/// How one endpoint is exercised: state prepared before the measured batches, then one request at a time.
struct EndpointWorkload {
    /// The name in the cost report and the gate's checks (`cost.<name>.<figure>`).
    var name: String
    /// Requests in the first measured batch (the second has twice as many). Login and register hash a password
    /// (PBKDF2), so they run fewer.
    var batch: Int
    /// Prepares whatever `count` requests need (users, tokens); runs before the first reading.
    var prepare: (_ http: ProbeHTTPConnection, _ count: Int) throws(ProbeError) -> Void
    /// Sends request number `index` (0-based, over warm-up and both batches) and checks its status.
    var send: (_ http: ProbeHTTPConnection, _ index: Int) throws(ProbeError) -> Void
}

/// The state the auth workloads share within one run: unique names, and the tokens handed out.
final class AuthWorkloadState {
    let prefix: String
    let password = "cost-gate-password"
    var tokens: [String] = []
    var refreshToken = ""

    init(run: Int) { prefix = "cost\(run)x\(UInt32.random(in: 0...UInt32.max))" }

    func credentials(_ user: String) -> String { "{\"username\":\"\(user)\",\"password\":\"\(password)\"}" }

    func register(_ http: ProbeHTTPConnection, _ user: String) throws(ProbeError) {
        _ = try http.expect(201, "POST", "/auth/register", json: credentials(user))
    }

    func login(_ http: ProbeHTTPConnection, _ user: String) throws(ProbeError) -> String {
        try Self.token(in: http.expect(200, "POST", "/auth/login", json: credentials(user)))
    }

    static func token(in response: ProbeHTTPConnection.Response) throws(ProbeError) -> String {
        let text = response.text
        guard let start = text.range(of: "\"token\":\""), let end = text[start.upperBound...].firstIndex(of: "\"") else {
            throw ProbeError("no token in \(text.prefix(120))")
        }
        return String(text[start.upperBound..<end])
    }
}

extension EndpointWorkload {
    /// The endpoint whose CPU is the others' reference (the server's HTTP floor: no Redis, a canned body).
    static let httpFloor = "healthLive"

    /// Every endpoint the gate covers, in the order they run.
    static func all(state: AuthWorkloadState, batch: Int, hashingBatch: Int) -> [EndpointWorkload] {
        let user = "\(state.prefix)main"
        return [
            EndpointWorkload(
                name: "healthLive", batch: batch, prepare: { _, _ in },
                send: { http, _ throws(ProbeError) in _ = try http.expect(200, "GET", "/health/live") }),
            EndpointWorkload(
                name: "healthRedis", batch: batch, prepare: { _, _ in },
                send: { http, _ throws(ProbeError) in _ = try http.expect(200, "GET", "/health/redis") }),
            EndpointWorkload(
                name: "register", batch: hashingBatch, prepare: { _, _ in },
                send: { http, index throws(ProbeError) in try state.register(http, "\(state.prefix)r\(index)") }),
            EndpointWorkload(
                name: "login", batch: hashingBatch,
                prepare: { http, _ throws(ProbeError) in try state.register(http, user) },
                send: { http, _ throws(ProbeError) in state.tokens.append(try state.login(http, user)) }),
            EndpointWorkload(
                name: "verify", batch: batch,
                prepare: { http, _ throws(ProbeError) in state.refreshToken = try state.login(http, user) },
                send: { http, _ throws(ProbeError) in
                    _ = try http.expect(200, "GET", "/auth/verify", bearer: state.refreshToken)
                }),
            EndpointWorkload(
                name: "refresh", batch: batch, prepare: { _, _ in },
                send: { http, _ throws(ProbeError) in
                    state.refreshToken = try AuthWorkloadState.token(
                        in: http.expect(200, "POST", "/auth/refresh", bearer: state.refreshToken))
                }),
            EndpointWorkload(
                name: "logout", batch: hashingBatch,
                // The tokens of the login workload, topped up so every logout has its own.
                prepare: { http, count throws(ProbeError) in
                    while state.tokens.count < count { state.tokens.append(try state.login(http, user)) }
                },
                send: { http, index throws(ProbeError) in
                    _ = try http.expect(204, "POST", "/auth/logout", bearer: state.tokens[index])
                }),
        ]
    }
}
