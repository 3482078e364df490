import Crypto

/// Redis key layout, all under the configured namespace prefix (default `auth:`):
///
/// | key | type | value | TTL |
/// |---|---|---|---|
/// | `<prefix>user:<username>` | string | password record `pbkdf2-sha256$<iterations>$<salt>$<key>` | none |
/// | `<prefix>token:<sha256(token) hex>` | string | username | `tokenTTL` |
/// | `<prefix>fail:<username>` | string (counter) | failed logins in the current window | `rateLimit.window` |
package struct AuthRedisKeys: Sendable {
    package let prefix: String
    private let userPrefix: String
    private let failPrefix: String
    private let tokenPrefixBytes: [UInt8]
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    package init(prefix: String) {
        self.prefix = prefix
        self.userPrefix = prefix + "user:"
        self.failPrefix = prefix + "fail:"
        self.tokenPrefixBytes = Array((prefix + "token:").utf8)
    }

    package func user(_ username: String) -> String { userPrefix + username }
    package func failures(_ username: String) -> String { failPrefix + username }
    /// The key of a token: the token itself never reaches Redis, only its SHA-256.
    /// Built in place (one allocation): this runs on every `/auth/verify`.
    package func token(_ token: Substring) -> String {
        var token = token
        let digest = token.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        let prefix = self.tokenPrefixBytes
        let digits = Self.hexDigits
        return String(unsafeUninitializedCapacity: prefix.count + 2 * SHA256.byteCount) { buffer in
            var index = 0
            for byte in prefix {
                buffer[index] = byte
                index += 1
            }
            digest.withUnsafeBytes { bytes in
                for byte in bytes {
                    buffer[index] = digits[Int(byte >> 4)]
                    buffer[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return index
        }
    }
}
