import AuthServiceUnderTest
import Testing

@Suite("AuthService security primitives")
struct AuthSecurityTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    // RFC 7914 §11 PBKDF2-HMAC-SHA256 test vectors.
    @Test func pbkdf2MatchesRFC7914Vector1() throws {
        let derived = try PasswordHasher.pbkdf2SHA256(
            password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, keyByteCount: 64)
        #expect(
            derived
                == Self.hex(
                    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
                ))
    }

    @Test func pbkdf2MatchesRFC7914Vector2() throws {
        let derived = try PasswordHasher.pbkdf2SHA256(
            password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, keyByteCount: 64)
        #expect(
            derived
                == Self.hex(
                    "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
                ))
    }

    @Test func pbkdf2MatchesKnownSHA256Vector() throws {
        let derived = try PasswordHasher.pbkdf2SHA256(
            password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096, keyByteCount: 32)
        #expect(derived == Self.hex("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"))
    }

    @Test func recordRoundTripAndWrongPassword() throws {
        let hasher = PasswordHasher(iterations: 1_000)
        let record = try hasher.makeRecord(password: "correct horse")
        #expect(record.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(try hasher.verify(password: "correct horse", record: record))
        #expect(try !hasher.verify(password: "correct horsf", record: record))
        #expect(try !hasher.verify(password: "", record: record))
        // Salted: the same password gives a different record.
        #expect(try hasher.makeRecord(password: "correct horse") != record)
        let parsed = try #require(PasswordRecord(record))
        #expect(parsed.iterations == 1_000)
        #expect(parsed.salt.count == PasswordHasher.saltByteCount)
        #expect(parsed.derivedKey.count == PasswordHasher.keyByteCount)
    }

    @Test func recordsVerifyWithTheirOwnIterationCount() throws {
        let old = try PasswordHasher(iterations: 500).makeRecord(password: "password-1")
        #expect(try PasswordHasher(iterations: 2_000).verify(password: "password-1", record: old))
    }

    @Test(arguments: ["", "garbage", "pbkdf2-sha256$x$AA==$AA==", "pbkdf2-sha256$10$!!$AA==", "md5$1$AA==$AA==",
        "pbkdf2-sha256$0$AA==$AA=="])
    func malformedRecordsNeverVerify(_ record: String) throws {
        #expect(PasswordRecord(record) == nil)
        #expect(try !PasswordHasher(iterations: 10).verify(password: "whatever1", record: record))
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
    }

    @Test func base64RoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encodeURL([0xFB, 0xFF]) == "-_8")
        #expect(Base64.decode("Zm9v*") == nil)
    }

    @Test func tokensAreRandomBase64URL() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = AuthToken.generate()
            #expect(token.utf8.count == AuthToken.encodedLength)
            #expect(AuthToken.isWellFormed(token[...]))
            seen.insert(token)
        }
        #expect(seen.count == 200)
    }

    @Test func tokenDigestIsSHA256Hex() {
        #expect(AuthToken.digestHex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let keys = AuthRedisKeys(prefix: "auth:")
        #expect(keys.token("abc") == "auth:token:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(keys.user("alice") == "auth:user:alice")
        #expect(keys.failures("alice") == "auth:fail:alice")
    }

    @Test func bearerParsing() {
        let token = AuthToken.generate()
        #expect(AuthToken.bearerToken(fromAuthorization: "Bearer \(token)") == token[...])
        #expect(AuthToken.bearerToken(fromAuthorization: "bearer \(token)") == token[...])
        #expect(AuthToken.bearerToken(fromAuthorization: "BEARER  \(token) ") == token[...])
        #expect(AuthToken.bearerToken(fromAuthorization: nil) == nil)
        #expect(AuthToken.bearerToken(fromAuthorization: "Basic \(token)") == nil)
        #expect(AuthToken.bearerToken(fromAuthorization: "Bearer") == nil)
        #expect(AuthToken.bearerToken(fromAuthorization: "Bearer abc") == nil)
        #expect(AuthToken.bearerToken(fromAuthorization: "Bearer " + String(token.dropLast()) + "=") == nil)
        #expect(AuthToken.bearerToken(fromAuthorization: "Bearer\(token)") == nil)
    }

    @Test(arguments: [
        ("abc", true), ("ab", false), ("a.b-c_D9", true), (String(repeating: "x", count: 64), true),
        (String(repeating: "x", count: 65), false), ("al ice", false), ("alice:x", false), ("ålice", false), ("", false),
    ])
    func usernameRules(_ username: String, _ valid: Bool) {
        #expect(CredentialsValidator.isValidUsername(username) == valid)
    }

    @Test(arguments: [
        ("1234567", false), ("12345678", true), (String(repeating: "p", count: 256), true),
        (String(repeating: "p", count: 257), false), ("ééééé", true), ("éééé", true), ("ééé", false),
    ])
    func passwordRules(_ password: String, _ valid: Bool) {
        #expect(CredentialsValidator.isValidPassword(password) == valid)
    }
}
