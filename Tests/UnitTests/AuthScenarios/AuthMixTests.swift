import AuthScenarios
import LoadDriver
import Testing

@Suite("Auth mixes as text")
struct AuthMixTests {
    @Test func namedRequestsBringTheirSetup() throws {
        let verify = try AuthMix(endpoint: "verify", mix: nil)
        #expect(verify.mix.map(\.request) == [.authVerify])
        #expect(verify.setup == Scenario.authServiceSetup)
        #expect(try AuthMix(endpoint: nil, mix: nil) == verify)
        let mixed = try AuthMix(parsing: "verify=90,Login=5, refresh=5")
        #expect(mixed.mix.map(\.weight) == [90, 5, 5])
        #expect(mixed.mix.map(\.request.name) == ["verify", "login", "refresh"])
        #expect(try AuthMix(endpoint: "live", mix: nil).setup.isEmpty)
    }

    @Test func plainRequestsNeedNoSetup() throws {
        let plain = try AuthMix(parsing: "GET:/=3,post:/items=1")
        #expect(plain.mix.map(\.request.name) == ["/", "POST /items"])
        #expect(plain.mix.map(\.request.method) == ["GET", "POST"])
        #expect(plain.setup.isEmpty)
        #expect(try AuthMix(parsing: "GET:/=1,verify=1").setup == Scenario.authServiceSetup)
    }

    @Test(arguments: ["verify=x", "verify=0", "verify", "nope=1", "GET:items=1", ""])
    func badEntriesAreRejected(_ text: String) {
        #expect(throws: LoadDriverError.self) { try AuthMix(parsing: text) }
    }

    @Test func endpointAndMixAreExclusiveAndEndpointsAreNamed() {
        #expect(throws: LoadDriverError.self) { try AuthMix(endpoint: "verify", mix: "verify=1") }
        #expect(throws: LoadDriverError.self) { try AuthMix(endpoint: "nope", mix: nil) }
    }
}
