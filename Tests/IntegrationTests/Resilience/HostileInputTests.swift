import Foundation
import Testing

/// Hostile request bodies, headers and framing against a real server (loopback) and a real redis-server: every case
/// gets the right 4xx with a JSON `{error, message}` body — also what the HTTP/1.1 parser rejects before the router
/// (400 `malformed_request`, 431 `header_fields_too_large`) — never a 2xx for lying framing, and the server keeps
/// serving normal requests afterwards.
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

    /// Invalid UTF-8 (and other non-ASCII bytes) in the request head, sent as raw bytes: in the bearer token, in
    /// Content-Type, in an unrelated header value, in a header name and in the request target. Each gets the answer
    /// the same request with ASCII garbage would get (a JSON 4xx), or the parser's JSON 400, never a 5xx.
    @Test func invalidUTF8InTheRequestHeadGetsJSON4xx() async throws {
        try await AuthServerHarness.withServer { server, _ in
            let port = server.port
            let token = try await AuthServerHarness.registerAndLogin(port: port, "utf8head")
            let invalid: [[UInt8]] = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80, 0x80], [0xC0, 0xAF],
                                      Array("é".utf8)]
            func raw(_ requestLine: [UInt8], _ headers: [[UInt8]], body: String? = nil) -> [UInt8] {
                var bytes = requestLine + Array(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".utf8)
                for header in headers { bytes += header + [13, 10] }
                if let body { bytes += Array("Content-Length: \(body.utf8.count)\r\n".utf8) }
                return bytes + [13, 10] + Array((body ?? "").utf8)
            }
            let credentials = "{\"username\":\"utf8head\",\"password\":\"password-123\"}"
            for bad in invalid {
                let label = bad.map { String($0, radix: 16) }.joined(separator: " ")
                // A bearer token with the bytes in place of some of its characters, or appended: not a token → 401.
                let mangled = Array(token.utf8.prefix(40)) + bad
                for (method, path) in [("GET", "/auth/verify"), ("POST", "/auth/refresh"), ("POST", "/auth/logout")] {
                    for authorization in [Array("Bearer ".utf8) + mangled, Array("Bearer ".utf8) + Array(token.utf8) + bad, bad + Array(" ".utf8) + Array(token.utf8)] {
                        let response = try await RawHTTPClient.exchange(
                            port: port, chunks: [raw(Array("\(method) \(path)".utf8), [Array("Authorization: ".utf8) + authorization])])
                        Resilience.expectRefused(response, [401], code: "invalid_token", mayCloseSilently: false, "\(method) \(path) Authorization with \(label)")
                    }
                }
                // Content-Type with the bytes: not application/json → 415.
                let contentType = try await RawHTTPClient.exchange(
                    port: port, chunks: [raw(Array("POST /auth/login".utf8), [Array("Content-Type: application/json".utf8) + bad], body: credentials)])
                Resilience.expectRefused(contentType, [415], code: "unsupported_media_type", mayCloseSilently: false, "Content-Type with \(label)")
                // An unrelated header value (obs-text is legal in field values, RFC 9110 §5.5): ignored, so a request
                // without a token is still the plain 401, and /health/live still 200.
                let unrelated = try await RawHTTPClient.exchange(
                    port: port, chunks: [raw(Array("GET /auth/verify".utf8), [Array("X-Note: a".utf8) + bad + Array("b".utf8)])])
                Resilience.expectRefused(unrelated, [401], code: "invalid_token", mayCloseSilently: false, "unrelated header with \(label)")
                let live = try await RawHTTPClient.exchange(
                    port: port, chunks: [raw(Array("GET /health/live".utf8), [Array("X-Note: ".utf8) + bad])])
                #expect(live.status == 200, "/health/live with \(label) in an unrelated header: \(live)")
                // A header name with the bytes is not a token (RFC 9110 §5.1): the parser rejects the request.
                let name = try await RawHTTPClient.exchange(
                    port: port, chunks: [raw(Array("GET /health/live".utf8), [Array("X-".utf8) + bad + Array(": 1".utf8)])])
                Resilience.expectRefused(name, [400], code: "malformed_request", mayCloseSilently: false, "header name with \(label)")
                // The request target with the bytes (raw non-ASCII is not allowed in a URI, RFC 3986): the parser's 400.
                for target in [Array("GET /auth/".utf8) + bad, Array("GET /auth/verify?x=".utf8) + bad, Array("POST /auth/log".utf8) + bad + Array("in".utf8)] {
                    let response = try await RawHTTPClient.exchange(port: port, chunks: [raw(target, [])])
                    Resilience.expectRefused(response, [400], code: "malformed_request", mayCloseSilently: false, "request target \(String(decoding: target, as: UTF8.self).debugDescription)")
                }
            }
            // The real token still works: none of the above revoked or confused it.
            let verify = try await HTTP.request(port: port, "GET", "/auth/verify", headers: [("Authorization", "Bearer " + token)])
            #expect(verify.status == 200, "\(verify.status) \(verify.text)")
            try await Resilience.expectServesNormally(port: port, "invalid UTF-8 in request heads")
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

    /// Framing attacks over a raw socket: lying Content-Length, conflicting framing headers (request-smuggling
    /// shapes), garbage request lines. Never a 2xx for a request whose framing lies; after each, a full normal exchange
    /// on a new connection works, and no user hidden in a lying request was ever registered.
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
            Resilience.expectJSONError(shorterKeepAlive, 400, code: "invalid_json", "Content-Length shorter than the body, keep-alive")
            try await Resilience.expectServesNormally(port: port, "Content-Length shorter than the body")

            // Longer than the body: the server waits for bytes that never come. The client waits 2 s with the
            // connection open (no 2xx may arrive; the server may keep waiting), then closes; or it half-closes at
            // once (the server must then answer a JSON 400 or close within 2 s). Either way the server keeps serving.
            let clock = ContinuousClock()
            let waiting = try await RawHTTPClient.exchange(
                port: port, chunks: [Array(request(body.utf8.count + 100).utf8)], readTimeoutMilliseconds: 2_000)
            #expect(waiting.status == nil || waiting.status == 400, "Content-Length longer than the body, client waits: \(waiting)")
            if waiting.status != nil { Resilience.expectJSONError(waiting, 400, "Content-Length longer than the body, client waits") }
            try await Resilience.expectServesNormally(port: port, "Content-Length longer than the body, client waited and closed")
            let start = clock.now
            let halfClosed = try await RawHTTPClient.exchange(
                port: port, chunks: [Array(request(body.utf8.count + 100).utf8)], halfClose: true, readTimeoutMilliseconds: 2_000)
            Resilience.expectRefused(halfClosed, [400], "Content-Length longer than the body, client half-closes")
            #expect(clock.now - start < .seconds(2), "half-closed lying request took \(clock.now - start)")
            try await Resilience.expectServesNormally(port: port, "Content-Length longer than the body, client half-closed")

            // Framing the HTTP parser must reject before the handler runs: duplicate or conflicting Content-Length,
            // Content-Length with Transfer-Encoding (CL.TE / TE.CL smuggling shapes), unparsable lengths. Each hides a
            // second request registering "smuggled"; it must never run.
            let smuggledBody = "{\"username\":\"smuggled\",\"password\":\"password-123\"}"
            let smuggled = "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(smuggledBody.utf8.count)\r\n\r\n" + smuggledBody
            let chunkedSmuggle = "0\r\n\r\n" + smuggled
            let framings: [(String, String, String)] = [
                ("non-numeric Content-Length", "Content-Length: abc\r\n", body),
                ("negative Content-Length", "Content-Length: -5\r\n", body),
                ("Content-Length over 64 bits", "Content-Length: 99999999999999999999999\r\n", body),
                ("two conflicting Content-Lengths", "Content-Length: 10\r\nContent-Length: \(body.utf8.count)\r\n", body),
                ("two equal Content-Lengths", "Content-Length: \(body.utf8.count)\r\nContent-Length: \(body.utf8.count)\r\n", body),
                ("a Content-Length list", "Content-Length: \(body.utf8.count), \(body.utf8.count)\r\n", body),
                ("CL.TE: Content-Length then Transfer-Encoding: chunked",
                 "Content-Length: \(chunkedSmuggle.utf8.count)\r\nTransfer-Encoding: chunked\r\n", chunkedSmuggle),
                ("TE.CL: Transfer-Encoding: chunked then Content-Length",
                 "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "\(String(smuggled.utf8.count, radix: 16))\r\n\(smuggled)\r\n0\r\n\r\n"),
                ("Transfer-Encoding: chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunkedSmuggle),
            ]
            var outcomes: [String] = []
            for (label, framing, payload) in framings {
                for close in [true, false] {
                    let raw = "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(framing)"
                        + (close ? "Connection: close\r\n" : "") + "\r\n\(payload)"
                    let response = try await RawHTTPClient.exchange(port: port, raw, readTimeoutMilliseconds: 3_000)
                    outcomes.append("\(label)\(close ? "" : " (keep-alive)"): \(response.status.map { "\($0) \(response.json?["error"] ?? "")" } ?? "closed")")
                    Resilience.expectRefused(response, [400], code: "malformed_request", mayCloseSilently: false, "\(label)\(close ? "" : ", keep-alive")")
                    try await Resilience.expectServesNormally(port: port, label)
                }
            }
            print("conflicting framing: " + outcomes.joined(separator: "; "))
            // Neither the lying user nor the smuggled one exists: both names are still free.
            for username in ["lying", "smuggled"] {
                let register = try await HTTP.json(port: port, "POST", "/auth/register", ["username": username, "password": "password-123"])
                #expect(register.status == 201, "\(username) was registered by a lying request: \(register.status) \(register.text)")
            }
            // Garbage request lines and bytes: a JSON 400 or a close, never a 2xx or 5xx.
            for garbage in ["GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                            "GET /health/live HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}",
                            // Bare LF line endings: the parser does not take them (RFC 9112 §2.2 allows either choice).
                            "GET /health/live HTTP/1.1\nHost: x\n\n"] {
                let response = try await RawHTTPClient.exchange(port: port, garbage, readTimeoutMilliseconds: 2_000)
                Resilience.expectRefused(response, [400], code: "malformed_request", mayCloseSilently: false, "garbage \(garbage.debugDescription)")
            }
            // Well-framed binary garbage as the body reaches the handler: its JSON 400.
            let binaryBody = try await RawHTTPClient.exchange(
                port: port, "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n\u{0}\u{1}\u{2}\u{3}")
            Resilience.expectJSONError(binaryBody, 400, code: "invalid_json", "binary body")
            // Empty lines before a request line are skipped (RFC 9112 §2.2), so the server simply waits for a request.
            let emptyLines = try await RawHTTPClient.exchange(port: port, "\r\n\r\n\r\n", readTimeoutMilliseconds: 1_000)
            #expect(emptyLines.status == nil, "empty lines only: \(emptyLines)")
            try await Resilience.expectServesNormally(port: port, "lying Content-Length and garbage framing")
        }
    }

    /// The parser-error answer is the same with two workers and the pool on its own loop.
    @Test func parserRejectionsGetJSONAlsoWithOtherThreadLayouts() async throws {
        try await AuthServerHarness.withServer(configure: { $0.workers = 2; $0.dedicatedRedisEventLoop = true }) { server, _ in
            let port = server.port
            let conflicting = try await RawHTTPClient.exchange(
                port: port, "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
            Resilience.expectRefused(conflicting, [400], code: "malformed_request", mayCloseSilently: false, "conflicting Content-Length")
            let flood = "GET /health/live HTTP/1.1\r\nHost: x\r\n" + (0..<1_100).map { "X-\($0): 1\r\n" }.joined() + "\r\n"
            let tooMany = try await RawHTTPClient.exchange(port: port, flood)
            Resilience.expectRefused(tooMany, [431], code: "header_fields_too_large", mayCloseSilently: false, "1,100 headers")
            try await Resilience.expectServesNormally(port: port, "parser rejections with two workers")
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
            // Hummingbird's HTTP/1 decoder limits (HTTP1Channel.Configuration.DecoderConfiguration defaults, enforced by
            // NIO's HTTPDecoder): at most 1,000 header fields and 80 KiB per field and for all fields together. Within
            // them: 200. Over them NIO throws HTTPParserError.headerOverflow before the router runs, and the server
            // answers 431 with the JSON error body and closes. Only when the server closes while we are still sending
            // (a request far larger than its receive buffer) may the reset swallow that answer.
            let within = try await RawHTTPClient.exchange(port: port, chunks: [flood(100, valueSize: 10)], readTimeoutMilliseconds: 5_000)
            #expect(within.status == 200, "100 headers of 10 bytes (within the limits): \(within)")
            for (count, size) in [(1_000, 10), (10_000, 8), (200, 1_000), (1, 100_000), (1, 1_000_000), (2_000, 1_000)] {
                let response = try await RawHTTPClient.exchange(port: port, chunks: [flood(count, valueSize: size)], readTimeoutMilliseconds: 5_000)
                Resilience.expectRefused(
                    response, [431], code: "header_fields_too_large", mayCloseSilently: response.sendFailed, "\(count) headers of \(size) bytes")
                try await Resilience.expectServesNormally(port: port, "\(count) headers of \(size) bytes")
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
