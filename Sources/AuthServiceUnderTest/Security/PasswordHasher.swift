import Crypto
import _CryptoExtras

/// PBKDF2-HMAC-SHA256 password hashing with a random salt per password and a self-describing record.
///
/// A stored record has the form `pbkdf2-sha256$<iterations>$<salt base64>$<derived key base64>`, so a change of the
/// configured iteration count does not invalidate existing users (each record is verified with its own count).
/// Verification compares derived keys in constant time.
///
/// The methods here are synchronous and CPU bound (600,000 iterations take a few hundred milliseconds); the server runs
/// them on a dedicated `NIOThreadPool`, never on Swift's cooperative pool or an event loop.
package struct PasswordHasher: Sendable {
    /// The record scheme identifier.
    package static let scheme = "pbkdf2-sha256"
    /// Salt length in bytes (128 bits, as NIST SP 800-132 requires at least).
    package static let saltByteCount = 16
    /// Derived key length in bytes (the SHA-256 output size).
    package static let keyByteCount = 32

    /// Iterations used for new records.
    package let iterations: Int

    package init(iterations: Int) {
        precondition(iterations >= 1, "PBKDF2 needs at least one iteration")
        self.iterations = iterations
    }

    /// Raw PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), BoringSSL-backed.
    package static func pbkdf2SHA256(
        password: [UInt8],
        salt: [UInt8],
        iterations: Int,
        keyByteCount: Int = PasswordHasher.keyByteCount
    ) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: password,
            salt: salt,
            using: .sha256,
            outputByteCount: keyByteCount,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { [UInt8]($0) }
    }

    /// Hashes `password` with a fresh random salt and returns the record to store.
    package func makeRecord(password: String) throws -> String {
        var rng = SystemRandomNumberGenerator()
        var salt = [UInt8](repeating: 0, count: Self.saltByteCount)
        for index in salt.indices { salt[index] = UInt8.random(in: .min ... .max, using: &rng) }
        let derived = try Self.pbkdf2SHA256(password: Array(password.utf8), salt: salt, iterations: self.iterations)
        return "\(Self.scheme)$\(self.iterations)$\(Base64.encode(salt))$\(Base64.encode(derived))"
    }

    /// Checks `password` against a stored record. Returns `false` for a wrong password or an unreadable record.
    package func verify(password: String, record: String) throws -> Bool {
        guard let parsed = PasswordRecord(record) else {
            // Spend the same time as a real check so a broken record is not observable through timing.
            self.burnEquivalentWork(password: password)
            return false
        }
        let derived = try Self.pbkdf2SHA256(
            password: Array(password.utf8),
            salt: parsed.salt,
            iterations: parsed.iterations,
            keyByteCount: parsed.derivedKey.count
        )
        return ConstantTime.equals(derived, parsed.derivedKey)
    }

    /// Performs one PBKDF2 derivation with the configured iterations and discards it. Used for unknown users so that
    /// "unknown user" and "wrong password" take the same time.
    package func burnEquivalentWork(password: String) {
        _ = try? Self.pbkdf2SHA256(
            password: Array(password.utf8),
            salt: [UInt8](repeating: 0x5A, count: Self.saltByteCount),
            iterations: self.iterations
        )
    }
}

/// A parsed `pbkdf2-sha256$<iterations>$<salt>$<key>` record.
package struct PasswordRecord: Sendable, Hashable {
    package var iterations: Int
    package var salt: [UInt8]
    package var derivedKey: [UInt8]

    package init?(_ record: String) {
        let parts = record.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == PasswordHasher.scheme,
            let iterations = Int(parts[1]), iterations >= 1, iterations <= 100_000_000,
            let salt = Base64.decode(parts[2]), !salt.isEmpty,
            let key = Base64.decode(parts[3]), !key.isEmpty, key.count <= 64
        else { return nil }
        self.iterations = iterations
        self.salt = salt
        self.derivedKey = key
    }
}

/// Constant-time comparison helpers.
package enum ConstantTime {
    /// Compares two byte sequences without early exit on the first difference. Length is not secret.
    package static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
