/// Exact conversions between `Float` and the 16-bit float formats of checkpoints.
///
/// Widening (F16/BF16 → Float) is exact, subnormals included. Narrowing rounds to nearest, ties
/// to even, overflows to ±∞, keeps subnormals (no flush to zero), and keeps NaNs quiet with
/// their sign. Double → 16-bit goes through `Float(roundingToOdd:)`, so it rounds once, not twice.
public enum HalfPrecision {
    /// The Float with the IEEE binary16 bit pattern `bits`.
    @inline(__always)
    public static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    /// The binary16 bit pattern nearest to `value` (ties to even).
    @inline(__always)
    public static func f16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude > 0x7F80_0000 {
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x1FF)
        }
        if magnitude >= 0x477F_F000 { return sign | 0x7C00 }  // ≥ 65520 rounds to ∞ (and ∞ itself)
        if magnitude < 0x3880_0000 {
            // Below 2⁻¹⁴: a multiple of 2⁻²⁴ in half precision; the scaling is exact.
            let units = (Float(bitPattern: magnitude) * 0x1p24).rounded(.toNearestOrEven)
            return sign | UInt16(units)
        }
        let rebased = magnitude - (112 << 23)
        let rounded = (rebased + 0x0FFF + ((rebased >> 13) & 1)) >> 13
        return sign | UInt16(truncatingIfNeeded: rounded)
    }

    /// The Float with the bfloat16 bit pattern `bits` (exact).
    @inline(__always)
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The bfloat16 bit pattern nearest to `value` (ties to even).
    @inline(__always)
    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)
    }
}

extension Float {
    /// `value` rounded to Float with round-to-odd: truncate, then set the last bit if anything was
    /// lost. Rounding that result again to a format with at least two fewer significand bits gives
    /// the correctly rounded value, so Double → F16/BF16 rounds once.
    @inline(__always)
    public init(roundingToOdd value: Double) {
        let nearest = Float(value)
        if Double(nearest) == value || value.isNaN {
            self = nearest
            return
        }
        // Step back toward zero if rounding went away from it, then mark the loss in the last bit.
        var truncated = nearest
        if abs(Double(nearest)) > abs(value) {
            truncated = Float(bitPattern: nearest.bitPattern - 1)
        }
        self = Float(bitPattern: truncated.bitPattern | 1)
    }
}
