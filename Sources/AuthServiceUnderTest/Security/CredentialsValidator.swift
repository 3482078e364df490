/// Input rules for usernames and passwords.
///
/// - username: 3–64 characters from `[A-Za-z0-9_.-]` (so it is safe inside a Redis key and in JSON without escaping).
/// - password: 8–256 bytes of UTF-8.
package enum CredentialsValidator {
    package static let usernameLength = 3...64
    package static let passwordByteLength = 8...256

    package static func isValidUsername(_ username: String) -> Bool {
        let utf8 = username.utf8
        guard usernameLength.contains(utf8.count) else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    package static func isValidPassword(_ password: String) -> Bool {
        passwordByteLength.contains(password.utf8.count)
    }
}
