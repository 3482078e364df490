import LoadDriver
import NIOCore
import Testing

/// The driver writes each request as one pre-encoded buffer; these pin its bytes.
@Suite("Request encoding")
struct RequestEncodingTests {
    static func encode(_ template: RequestTemplate, _ variables: [String: String]) throws -> String {
        var buffer = ByteBuffer()
        try CompiledRequest(template, endpointIndex: 0, slot: 0).encode(variables: variables, host: "127.0.0.1:8002", into: &buffer)
        return String(buffer: buffer)
    }

    @Test func getWithBearerHeader() throws {
        let template = RequestTemplate(name: "verify", path: "/auth/verify", headers: ["Authorization": "Bearer {{token}}"])
        #expect(try Self.encode(template, ["token": "abc_-1"])
            == "GET /auth/verify HTTP/1.1\r\nHost: 127.0.0.1:8002\r\nAuthorization: Bearer abc_-1\r\n\r\n")
    }

    @Test func postWithJSONBodyGetsContentTypeAndByteLength() throws {
        let template = RequestTemplate(name: "login", method: "post", path: "/auth/login",
                                       body: #"{"username":"{{user}}","password":"pässword"}"#)
        let text = try Self.encode(template, ["user": "u1"])
        let body = #"{"username":"u1","password":"pässword"}"#
        #expect(text == "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:8002\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
    }

    @Test func explicitHeadersWinAndEmptyPostSaysLengthZero() throws {
        let template = RequestTemplate(name: "logout", method: "POST", path: "/auth/logout",
                                       headers: ["Content-Type": "text/plain"])
        #expect(try Self.encode(template, [:])
            == "POST /auth/logout HTTP/1.1\r\nHost: 127.0.0.1:8002\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n")
    }

    @Test(arguments: ["a\r\nX-Injected: 1", "a\nb", "a\0b"])
    func variablesThatWouldBreakTheFramingAreRefused(value: String) {
        let header = RequestTemplate(name: "verify", path: "/auth/verify", headers: ["Authorization": "Bearer {{token}}"])
        #expect(throws: InvalidRequestError.self) { try Self.encode(header, ["token": value]) }
        let path = RequestTemplate(name: "item", path: "/items/{{id}}")
        #expect(throws: InvalidRequestError.self) { try Self.encode(path, ["id": value]) }
    }

    @Test func aSpaceInThePathIsRefused() {
        let path = RequestTemplate(name: "item", path: "/items/{{id}}")
        #expect(throws: InvalidRequestError.self) { try Self.encode(path, ["id": "a b"]) }
    }
}
