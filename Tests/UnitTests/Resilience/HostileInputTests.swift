import Foundation
import Testing

/// Hostile request bodies, headers and framing against a real server (loopback) and a real redis-server: every case
/// gets the right 4xx with a JSON `{error, message}` body (or, for broken framing, a 4xx/close), and the server stays
/// live afterwards.
@Suite("Hostile input against the auth service", .serialized, .timeLimit(.minutes(3)))
struct HostileInputTests {
    typealias HTTP = AuthTestHTTPClient

    static func post(_ port: Int, _ path: String, _ body: [UInt8], contentType: String? = "application/json") async throws -> AuthTestResponse {
        try await HTTP.request(
            port: port, "POST", path, headers: contentType.map { [("Content-Type", $0)] } ?? [], body: body, timeout: .seconds(5))
    }

    static func post(_ port: Int, _ path: String, _ text: String, contentType: String? = "application/json") async throws -> AuthTestResponse {
        try await post(port, path, Array(text.utf8), contentType: contentType)
    }

    @Test func malformedJSONWrongTypesAndMissingFieldsGet400() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let malformed = [
                "", "{", "}", "{\"username\":", "not json", "{'username':'abc','password':'password-123'}",
                "{\"username\":\"abc\",\"password\":\"password-123\"", "{\"username\":\"abc\" \"password\":\"x\"}",
                "\u{FEFF}{", "{\"username\":\"abc\",\"password\":\"password-123\"}}", "nul", "{\"a\":tru}",
                String(repeating: "[", count: 8_000), String(repeating: "{\"a\":", count: 3_000),
            ]
            let wrongShape = [
                "[]", "null", "42", "\"abc\"", "true", "{}", "{\"username\":\"abc\"}", "{\"password\":\"password-123\"}",
                "{\"username\":1,\"password\":\"password-123\"}", "{\"username\":\"abc\",\"password\":12345678}",
                "{\"username\":[\"abc\"],\"password\":\"password-123\"}", "{\"username\":{\"a\":1},\"password\":\"password-123\"}",
                "{\"username\":null,\"password\":\"password-123\"}", "{\"username\":\"abc\",\"password\":null}",
                "{\"username\":true,\"password\":false}", "{\"Username\":\"abc\",\"Password\":\"password-123\"}",
                "[{\"username\":\"abc\",\"password\":\"password-123\"}]",
            ]
            for path in ["/auth/register", "/auth/login"] {
                for body in malformed {
                    let response = try await Self.post(port, path, body)
                    Resilience.expectJSONError(response, 400, "\(path) malformed \(body.prefix(40).debugDescription)")
                    #expect(["invalid_json", "invalid_request"].contains(response.string("error") ?? ""))
                }
                for body in wrongShape {
                    let response = try await Self.post(port, path, body)
                    Resilience.expectJSONError(response, 400, "\(path) wrong shape \(body.debugDescription)")
                }
            }
            try await Resilience.expectLive(port: port, "malformed JSON")
        }
    }

    @Test func invalidUTF8BodiesGet400() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let bodies: [[UInt8]] = [
                Array("{\"username\":\"ab".utf8) + [0xFF, 0xFE] + Array("\",\"password\":\"password-123\"}".utf8),
                Array("{\"username\":\"abc\",\"password\":\"pass".utf8) + [0xC3, 0x28, 0xA0, 0xA1] + Array("word\"}".utf8),
                Array("{\"username\":\"abc\",\"password\":\"".utf8) + [0xED, 0xA0, 0x80] + Array("xxxxxxxx\"}".utf8),  // surrogate
                Array("{\"username\":\"abc\",\"password\":\"".utf8) + [0xF8, 0x88, 0x80, 0x80, 0x80] + Array("xxxxxxxx\"}".utf8),
                [0xFF, 0xFF, 0xFF, 0xFF], [0x00], Array(repeating: 0x80, count: 300),
                Array("{\"username\":\"abc\u{0}\",\"password\":\"password-123\"}".utf8),
                Array("{\"username\":\"\\ud800\",\"password\":\"password-123\"}".utf8),  // lone escaped surrogate
            ]
            for path in ["/auth/register", "/auth/login"] {
                for (index, body) in bodies.enumerated() {
                    let response = try await Self.post(port, path, body)
                    // Undecodable → 400; a decodable string with a NUL/surrogate is not a valid username → 400 (register) /
                    // 401 (login, indistinguishable from a wrong password).
                    let allowed = path == "/auth/login" ? [400, 401] : [400]
                    #expect(allowed.contains(response.status), "\(path) invalid UTF-8 #\(index): \(response.status) \(response.text)")
                    Resilience.expectJSONError(response, response.status, "\(path) invalid UTF-8 #\(index)")
                }
            }
            try await Resilience.expectLive(port: port, "invalid UTF-8")
        }
    }

    @Test func hostileUsernamesAndPasswordsAreRejected() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let usernames = [
                "ab\r\ncd", "evil\r\nSET x y", "a b c", " abc", "abc ", "*", "user*", "a*b", "", "ab",
                String(repeating: "a", count: 65), String(repeating: "x", count: 5_000), "ünïcødé", "a:b", "../etc",
                "abc\u{0}", "abc\t", "a/b", "名前です", "abc\u{202E}", "a\"b", "a\\b", "{abc}", "abc%0d%0a",
            ]
            for username in usernames {
                let body = ["username": username, "password": "password-123"]
                let register = try await HTTP.json(port: port, "POST", "/auth/register", body)
                Resilience.expectJSONError(register, 400, code: "invalid_username", "register \(username.prefix(30).debugDescription)")
                let login = try await HTTP.json(port: port, "POST", "/auth/login", body)
                Resilience.expectJSONError(login, 401, code: "invalid_credentials", "login \(username.prefix(30).debugDescription)")
            }
            for password in ["", "short", "1234567", String(repeating: "p", count: 257), String(repeating: "é", count: 129)] {
                let register = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "validname", "password": password])
                Resilience.expectJSONError(register, 400, code: "invalid_password", "register password of \(password.utf8.count) bytes")
            }
            // Boundaries that must be accepted.
            let longest = String(repeating: "a", count: 64)
            let ok = try await HTTP.json(port: port, "POST", "/auth/register", ["username": longest, "password": String(repeating: "p", count: 256)])
            #expect(ok.status == 201, "64-char username / 256-byte password: \(ok.status) \(ok.text)")
            let odd = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "a.b-c_D9", "password": "pässwörd-\r\n*"])
            #expect(odd.status == 201, "any UTF-8 password is fine: \(odd.status) \(odd.text)")
            try await Resilience.expectLive(port: port, "hostile usernames")
        }
    }

    @Test func wrongContentTypeGets415AndOversizedBodiesGet413() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let valid = "{\"username\":\"ctuser\",\"password\":\"password-123\"}"
            for contentType in [nil, "text/plain", "application/jsonx", "application/json-patch+json", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x", "", "json", "application/xml"] as [String?] {
                for path in ["/auth/register", "/auth/login"] {
                    let response = try await Self.post(port, path, valid, contentType: contentType)
                    Resilience.expectJSONError(response, 415, code: "unsupported_media_type", "\(path) content type \(contentType ?? "none")")
                }
            }
            // Parameters and case are fine.
            let tolerant = try await Self.post(port, "/auth/register", valid, contentType: "Application/JSON ; charset=utf-8")
            #expect(tolerant.status == 201, "\(tolerant.status) \(tolerant.text)")

            // Over 16 KiB: declared by Content-Length, and a JSON body padded past the limit.
            for size in [16_385, 20_000, 1_000_000] {
                var body = Array("{\"username\":\"big\",\"password\":\"".utf8)
                body += Array(repeating: UInt8(ascii: "p"), count: size - body.count - 2)
                body += Array("\"}".utf8)
                for path in ["/auth/register", "/auth/login"] {
                    let response = try await Self.post(port, path, body)
                    Resilience.expectJSONError(response, 413, code: "payload_too_large", "\(path) body of \(size) bytes")
                }
            }
            // Exactly at the limit is not 413 (it is a too-long password → 400).
            var atLimit = Array("{\"username\":\"big\",\"password\":\"".utf8)
            atLimit += Array(repeating: UInt8(ascii: "p"), count: 16_384 - atLimit.count - 2) + Array("\"}".utf8)
            let limitResponse = try await Self.post(port, "/auth/register", atLimit)
            Resilience.expectJSONError(limitResponse, 400, code: "invalid_password", "body of exactly 16384 bytes")

            // Over the limit with chunked encoding (no Content-Length to trust).
            var chunked = "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            for _ in 0..<5 { chunked += "1000\r\n" + String(repeating: "a", count: 4096) + "\r\n" }
            chunked += "0\r\n\r\n"
            let raw = try await RawHTTPClient.exchange(port: port, chunked)
            Resilience.expectJSONError(raw, 413, code: "payload_too_large", "chunked body of 20480 bytes")
            try await Resilience.expectLive(port: port, "413/415")
        }
    }

    @Test func malformedBearerTokensGet401() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "tokenuser")
            let unknown = String(repeating: "A", count: 43)
            let authorizations: [String?] = [
                nil, "", "Bearer", "Bearer ", "Bearer  ", "Bearer\t" + token, token, "Token " + token, "Basic " + token,
                "Bearer " + String(token.dropLast()), "Bearer " + token + "A", "Bearer " + token + " extra",
                "Bearer " + unknown, "Bearer " + String(repeating: "A", count: 42) + "+", "Bearer " + String(repeating: "A", count: 42) + "/",
                "Bearer " + String(repeating: "A", count: 42) + "=", "Bearer " + String(repeating: "A", count: 42) + "*",
                "Bearer " + String(repeating: "A", count: 42) + "\u{00E9}", "Bearer " + String(repeating: "A", count: 10_000),
                "Bearer " + token + "," + token, "Bearer: " + token, "Bearertoken", "Bearer " + "%41" + String(token.dropFirst()),
                "B\u{00E9}arer " + token, "Bearer " + String(repeating: " ", count: 43),
            ]
            for authorization in authorizations {
                for (method, path) in [("GET", "/auth/verify"), ("POST", "/auth/refresh"), ("POST", "/auth/logout")] {
                    let headers = authorization.map { [("Authorization", $0)] } ?? []
                    let response = try await HTTP.request(port: port, method, path, headers: headers, timeout: .seconds(5))
                    Resilience.expectJSONError(response, 401, code: "invalid_token", "\(method) \(path) Authorization \(authorization.map { String($0.prefix(60)).debugDescription } ?? "missing")")
                }
            }
            // The scheme is case-insensitive (RFC 9110 §11.1) and surrounding spaces are tolerated: the real token works.
            for authorization in ["bearer " + token, "BEARER " + token, "Bearer   " + token + "  "] {
                let response = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", authorization)])
                #expect(response.status == 200, "\(authorization.debugDescription): \(response.status) \(response.text)")
            }
            // Two Authorization headers: never 5xx.
            let twice = try await HTTP.request(
                port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + unknown), ("Authorization", "Bearer " + token)])
            #expect(twice.status < 500, "two Authorization headers: \(twice.status)")
            try await Resilience.expectLive(port: port, "bad tokens")
        }
    }

    @Test func wrongMethodsAndOddPathsGetJSON4xx() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            for (method, path) in [("GET", "/auth/login"), ("PUT", "/auth/register"), ("DELETE", "/auth/logout"), ("POST", "/auth/verify"),
                                   ("POST", "/health/live"), ("PATCH", "/metrics")] {
                let response = try await HTTP.request(port: port, method, path, timeout: .seconds(5))
                Resilience.expectJSONError(response, 405, code: "method_not_allowed", "\(method) \(path)")
                #expect(response.header("Allow") != nil, "\(method) \(path) has no Allow header")
            }
            for path in ["/nope", "/auth/login/../register", "/auth//login", "/" + String(repeating: "a", count: 8_000), "/auth/%00",
                         "/auth/login%0d%0aX-Injected:%201"] {
                let response = try await HTTP.request(port: port, "GET", path, timeout: .seconds(5))
                #expect((400..<500).contains(response.status), "GET \(path.prefix(60)): \(response.status) \(response.text)")
            }
            try await Resilience.expectLive(port: port, "odd paths")
        }
    }

    /// Framing attacks over a raw socket: lying Content-Length, header floods, slow headers, garbage request lines.
    @Test func lyingContentLengthAndBrokenFramingNeverHangOrCrash() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let body = "{\"username\":\"lying\",\"password\":\"password-123\"}"
            func request(_ length: Int, close: Bool = true) -> String {
                "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n"
                    + (close ? "Connection: close\r\n" : "") + "\r\n" + body
            }
            // Shorter than the body: the server sees a truncated JSON document → 400; the rest is garbage it must survive.
            let shorter = try await RawHTTPClient.exchange(port: port, request(10))
            Resilience.expectJSONError(shorter, 400, code: "invalid_json", "Content-Length shorter than the body")
            let shorterKeepAlive = try await RawHTTPClient.exchange(port: port, request(10, close: false), readTimeoutMilliseconds: 3_000)
            #expect(shorterKeepAlive.status == 400, "\(shorterKeepAlive)")

            // Longer than the body, connection left open: the server waits for bytes that never come. Our wait is
            // bounded (2 s); either the server answers 4xx or it is still waiting — never a 5xx or a crash.
            let longer = try await RawHTTPClient.exchange(port: port, chunks: [Array(request(body.utf8.count + 100).utf8)], readTimeoutMilliseconds: 2_000)
            #expect(longer.status.map { (400..<500).contains($0) } ?? true, "Content-Length longer than the body: \(longer)")
            // Inconsistent framing headers the HTTP parser rejects before the handler runs.
            for framing in ["Content-Length: abc\r\n", "Content-Length: -5\r\n", "Content-Length: 10\r\nContent-Length: 20\r\n",
                            "Content-Length: 99999999999999999999999\r\n", "Content-Length: 46\r\nTransfer-Encoding: chunked\r\n"] {
                let raw = "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(framing)Connection: close\r\n\r\n\(body)"
                let response = try await RawHTTPClient.exchange(port: port, raw, readTimeoutMilliseconds: 3_000)
                #expect(response.status.map { $0 < 500 } ?? true, "framing \(framing.debugDescription): \(response)")
            }
            // Garbage request lines and bytes.
            for garbage in ["GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\r\n\r\n\r\n", "GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                            "GET /health/live HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}",
                            "GET /health/live HTTP/1.1\nHost: x\n\n", "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n\u{0}\u{1}\u{2}\u{3}"] {
                let response = try await RawHTTPClient.exchange(port: port, garbage, readTimeoutMilliseconds: 2_000)
                #expect(response.status.map { $0 < 500 } ?? true, "garbage \(garbage.debugDescription): \(response)")
            }
            try await Resilience.expectLive(port: port, "lying Content-Length and garbage framing")
        }
    }

    /// A body that breaks while the handler reads it (EOF mid-body, an unsupported transfer coding, a bad chunk) is
    /// the client's fault: 400 or a closed connection, never 500.
    @Test func bodyStreamErrorsGet4xxNot500() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let body = "{\"username\":\"broken\",\"password\":\"password-123\"}"
            let head = "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            let cases: [(String, String, Bool)] = [
                ("Content-Length longer than the body, then EOF", head + "Content-Length: \(body.utf8.count + 100)\r\n\r\n" + body, true),
                ("Transfer-Encoding: gzip", head + "Transfer-Encoding: gzip\r\n\r\n" + body, false),
                ("chunk size that is not hex", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n", false),
                ("chunked body cut off by EOF", head + "Transfer-Encoding: chunked\r\n\r\n100\r\n" + body, true),
            ]
            let clock = ContinuousClock()
            for (label, request, halfClose) in cases {
                let start = clock.now
                let response = try await RawHTTPClient.exchange(
                    port: port, chunks: [Array(request.utf8)], halfClose: halfClose, readTimeoutMilliseconds: 5_000)
                #expect(response.status.map { (400..<500).contains($0) } ?? true, "\(label): \(response)")
                #expect(!response.timedOut, "\(label): neither answered nor closed: \(response)")
                #expect(clock.now - start < .seconds(5))
            }
            try await Resilience.expectLive(port: port, "broken bodies")
        }
    }

    @Test func headerFloodsAndSlowHeadersAreSurvived() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            func flood(_ count: Int, valueSize: Int) -> [UInt8] {
                var text = "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                let value = String(repeating: "v", count: valueSize)
                for index in 0..<count { text += "X-Flood-\(index): \(value)\r\n" }
                return Array((text + "\r\n").utf8)
            }
            // Many small headers, many medium ones, one huge one, and more than a megabyte of headers.
            for (count, size) in [(100, 10), (1_000, 10), (10_000, 8), (200, 1_000), (1, 100_000), (1, 1_000_000), (2_000, 1_000)] {
                let response = try await RawHTTPClient.exchange(port: port, chunks: [flood(count, valueSize: size)], readTimeoutMilliseconds: 5_000)
                // 200 (accepted), a 4xx (e.g. 431/400) or a closed connection are all fine; a 5xx or a hang is not.
                #expect(!response.timedOut, "\(count) headers of \(size) bytes: no answer and no close: \(response)")
                #expect(response.status.map { $0 == 200 || (400..<500).contains($0) } ?? true, "\(count) headers of \(size) bytes: \(response)")
                try await Resilience.expectLive(port: port, "\(count) headers of \(size) bytes")
            }
            // Headers one byte at a time (slowloris-style, bounded): the request still gets its answer.
            let slow = Array("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\nConnection: close\r\n\r\n".utf8)
            let slowResponse = try await RawHTTPClient.exchange(
                port: port, chunks: slow.map { [$0] }, delayMicroseconds: 2_000, readTimeoutMilliseconds: 5_000)
            #expect(slowResponse.status == 200, "one byte at a time: \(slowResponse)")
            // A slow body, one byte at a time, for a real login.
            let register = try await HTTP.json(port: port, "POST", "/auth/register", ["username": "slowpoke", "password": "password-123"])
            #expect(register.status == 201)
            let loginBody = "{\"username\":\"slowpoke\",\"password\":\"password-123\"}"
            let head = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(loginBody.utf8.count)\r\nConnection: close\r\n\r\n"
            let slowLogin = try await RawHTTPClient.exchange(
                port: port, chunks: [Array(head.utf8)] + Array(loginBody.utf8).map { [$0] }, delayMicroseconds: 2_000)
            #expect(slowLogin.status == 200, "slow login body: \(slowLogin)")
            // While many slow connections hold half a request open, normal requests are served.
            let port32 = port
            try await withThrowingTaskGroup(of: RawHTTPClient.Result.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await RawHTTPClient.exchange(
                            port: port32, chunks: [Array("GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: ".utf8)], readTimeoutMilliseconds: 1_500)
                    }
                }
                try await Resilience.expectLive(port: port, "8 half-open slow requests")
                for try await _ in group {}
            }
            try await Resilience.expectLive(port: port, "header floods")
        }
    }
}
