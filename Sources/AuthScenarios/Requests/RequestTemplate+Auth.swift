import LoadDriver

extension RequestTemplate {
    /// `POST /auth/register {"username","password"}`; 201 (created) and 409 (already taken) both count as success.
    public static let authRegister = RequestTemplate(
        name: "register",
        method: "POST",
        path: "/auth/register",
        body: #"{"username":"{{username}}","password":"{{password}}"}"#,
        expectedStatus: [201, 409]
    )

    /// `POST /auth/login`, capturing the response's `token` into the user's `token` variable.
    public static let authLogin = RequestTemplate(
        name: "login",
        method: "POST",
        path: "/auth/login",
        body: #"{"username":"{{username}}","password":"{{password}}"}"#,
        expectedStatus: [200],
        captures: [Capture(variable: "token", jsonField: "token")]
    )

    /// `GET /auth/verify` with `Authorization: Bearer {{token}}`.
    public static let authVerify = RequestTemplate(
        name: "verify",
        method: "GET",
        path: "/auth/verify",
        headers: ["Authorization": "Bearer {{token}}"],
        expectedStatus: [200]
    )

    /// `POST /auth/refresh` with the bearer token; the response `{token, expiresIn}` replaces the user's token
    /// (the old one is revoked by the server, so the capture happens before the user's next request).
    public static let authRefresh = RequestTemplate(
        name: "refresh",
        method: "POST",
        path: "/auth/refresh",
        headers: ["Authorization": "Bearer {{token}}"],
        expectedStatus: [200],
        captures: [Capture(variable: "token", jsonField: "token")]
    )

    /// `GET /health/live`: no setup, no Redis.
    public static let authLive = RequestTemplate(name: "live", method: "GET", path: "/health/live", expectedStatus: [200])

    /// The auth service's pool-metrics path (its pool's metrics as JSON, in ``PoolField``'s terms), polled by the
    /// driver every second: ``LoadRunner/Configuration/poolMonitorPath``.
    public static let authPoolMetricsPath = "/health/redis"
}
