import Crypto

/// Opaque bearer tokens: 32 bytes from the system CSPRNG (`getrandom(2)` on Linux), base64url without padding
/// (43 characters). Redis never sees a token: it stores `SHA-256(token)` hex under the token key.
package enum AuthToken {
    /// Random bytes per token.
    package static let byteCount = 32
    /// Encoded length of a token (base64url, unpadded).
    package static let encodedLength = 43

    /// A fresh random token.
    package static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let word = rng.next()
                withUnsafeBytes(of: word) { wordBytes in
                    for index in 0..<min(8, raw.count - offset) { raw[offset + index] = wordBytes[index] }
                }
                offset += 8
            }
        }
        return Base64.encodeURL(bytes)
    }

    /// Whether `token` has the shape of a token this service issues (length and base64url alphabet).
    /// Checked before any Redis I/O so garbage never costs a round trip.
    package static func isWellFormed(_ token: Substring) -> Bool {
        guard token.utf8.count == encodedLength else { return false }
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 bytes (64 characters).
    package static func digestHex(_ token: Substring) -> String {
        var token = token
        let digest = token.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return Hex.encode(digest)
    }

    /// Extracts the token from an `Authorization: Bearer <token>` header value (scheme case-insensitive).
    /// Returns `nil` when the header is missing, has another scheme, or the token is malformed.
    package static func bearerToken(fromAuthorization value: String?) -> Substring? {
        guard let value else { return nil }
        let utf8 = value.utf8
        guard utf8.count > 7 else { return nil }
        var iterator = utf8.makeIterator()
        for expected in "bearer".utf8 {
            guard let byte = iterator.next(), byte | 0x20 == expected else { return nil }
        }
        guard iterator.next() == UInt8(ascii: " ") else { return nil }
        let start = value.utf8.index(value.utf8.startIndex, offsetBy: 7)
        var token = value[start...]
        while token.first == " " { token = token.dropFirst() }
        while token.last == " " { token = token.dropLast() }
        return isWellFormed(token) ? token : nil
    }
}
