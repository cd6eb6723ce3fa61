@testable import IsoMerge
import XCTest

final class HalfPrecisionTests: XCTestCase {
    /// Every F16 pattern widens exactly and narrows back to itself (NaNs stay NaN with their sign).
    func testAllF16PatternsRoundTrip() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromF16: bits)
            let back = HalfPrecision.f16Bits(from: value)
            if bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0 {
                XCTAssertTrue(value.isNaN)
                XCTAssertEqual(back & 0x8000, bits & 0x8000)
                XCTAssertTrue(back & 0x7C00 == 0x7C00 && back & 0x3FF != 0, "NaN \(bits) came back as \(back)")
            } else {
                XCTAssertEqual(back, bits, "F16 pattern \(String(bits, radix: 16))")
                #if arch(x86_64) || arch(arm64)
                XCTAssertEqual(value, Float(Float16(bitPattern: bits)), "F16 widening \(bits)")
                #endif
            }
        }
    }

    func testAllBF16PatternsRoundTrip() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromBF16: bits)
            XCTAssertEqual(value.bitPattern, UInt32(bits) << 16)
            let back = HalfPrecision.bf16Bits(from: value)
            if value.isNaN {
                XCTAssertTrue(HalfPrecision.float(fromBF16: back).isNaN)
                XCTAssertEqual(back & 0x8000, bits & 0x8000)
            } else {
                XCTAssertEqual(back, bits)
            }
        }
    }

    /// Narrowing agrees with an independent rounding: Swift's Float16 for F16, and for BF16 the
    /// nearer of the two neighbouring patterns, ties to the even one.
    func testNarrowingRoundsToNearestEven() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Float] = [65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, -0.0, .infinity, -.infinity,
                                Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude]
        for _ in 0..<200_000 {
            samples.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator)))
        }
        // Exact ties between neighbours.
        samples += [Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_1000)]
        for x in samples where !x.isNaN {
            #if arch(x86_64) || arch(arm64)
            XCTAssertEqual(HalfPrecision.f16Bits(from: x), Float16(x).bitPattern, "F16 of \(x)")
            #endif
            guard x.isFinite else { continue }
            // The pattern above the largest finite BF16 is ∞, which rounding treats as 2¹²⁸.
            func value(_ pattern: UInt32) -> Double {
                pattern & 0x7FFF_FFFF == 0x7F80_0000 ? (pattern >> 31 == 1 ? -0x1p128 : 0x1p128)
                                                     : Double(Float(bitPattern: pattern))
            }
            let low = x.bitPattern & 0xFFFF_0000
            let high = low &+ 0x10000
            let (below, above) = (abs(value(low) - Double(x)), abs(value(high) - Double(x)))
            let expected = below < above || (below == above && (low >> 16) & 1 == 0) ? low : high
            XCTAssertEqual(UInt32(HalfPrecision.bf16Bits(from: x)) << 16, expected, "BF16 of \(x)")
        }
    }

    /// Double → 16-bit rounds once: round-to-odd through Float avoids double rounding.
    func testDoubleToHalfRoundsOnce() {
        // 1 + 2⁻¹¹ + 2⁻³⁰ is just above the F16 midpoint between 1 and 1 + 2⁻¹⁰; rounding to Float
        // first would land on the midpoint and then round to even (down).
        let x = 1.0 + 0x1p-11 + 0x1p-30
        XCTAssertEqual(HalfPrecision.f16Bits(from: Float(roundingToOdd: x)), 0x3C01)
        XCTAssertEqual(HalfPrecision.f16Bits(from: Float(x)), 0x3C00)
        let y = 1.0 + 0x1p-8 + 0x1p-40
        XCTAssertEqual(HalfPrecision.bf16Bits(from: Float(roundingToOdd: y)), 0x3F81)
        XCTAssertEqual(Float(roundingToOdd: 1e300), Float.greatestFiniteMagnitude)
        XCTAssertEqual(HalfPrecision.bf16Bits(from: Float(roundingToOdd: 1e300)), 0x7F80)
        XCTAssertEqual(Float(roundingToOdd: 0.5), 0.5)
    }
}
