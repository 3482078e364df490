extension PoolStateMachine {
    /// Backoff before the next connection attempt after `failures` consecutive failures:
    /// `initial × multiplier^(failures-1)`, capped at `maximum`, times `1 ± jitter`; `randomUnit` in 0..<1 picks
    /// the jitter.
    package func backoffNanoseconds(failures: Int, randomUnit: Double) -> Int64 {
        let exponent = Swift.max(0, failures - 1)
        let raw = Swift.min(backoffInitial * power(backoffMultiplier, exponent), backoffMaximum)
        let factor = 1 + backoffJitter * (2 * Swift.min(Swift.max(randomUnit, 0), 1) - 1)
        return Int64(raw * factor)
    }
}

/// `base` to a non-negative integer power, saturating at the largest finite `Double` (avoids importing
/// Foundation/Glibc for `pow`).
private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    var remaining = exponent
    var factor = base
    while remaining > 0 {
        if remaining & 1 == 1 { result *= factor }
        factor *= factor
        remaining >>= 1
    }
    return result.isFinite ? result : .greatestFiniteMagnitude
}
