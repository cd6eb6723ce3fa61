@testable import Linalg
import TestSupport
import XCTest

/// The bit-pattern scan against the obvious loop: every length around the vector width, signs,
/// zeros, subnormals, the largest finite values, and NaN/±∞ planted at every position.
final class MagnitudeScanTests: XCTestCase {
    func check<T: LinalgScalar>(_: T.Type) {
        var generator = SeededGenerator(seed: 11)
        let specials: [T] = [0, -0.0, T.leastNonzeroMagnitude, -T.leastNormalMagnitude, T.greatestFiniteMagnitude,
                             -T.greatestFiniteMagnitude, 1, -3]
        for count in 0...40 {
            var values = (0..<count).map { _ in T(Double.random(in: -2...2, using: &generator)) }
            for (i, special) in specials.enumerated() where i < count { values[(i * 7) % count] = special }
            let scan = magnitudeScan(values)
            XCTAssertEqual(scan.largest, values.map { abs($0) }.max() ?? 0, "\(T.self) count \(count)")
            XCTAssertTrue(scan.allFinite)
            XCTAssertNil(firstNonFiniteIndex(values))
            for bad in [T.nan, T.infinity, -T.infinity, -T.nan] {
                for position in stride(from: 0, to: count, by: 3) {
                    var planted = values
                    planted[position] = bad
                    if position + 5 < count { planted[position + 5] = bad }
                    XCTAssertFalse(magnitudeScan(planted).allFinite, "\(T.self) \(bad) at \(position) of \(count)")
                    XCTAssertEqual(firstNonFiniteIndex(planted), position, "\(T.self) \(bad) at \(position) of \(count)")
                }
            }
        }
    }

    func testFloat() { check(Float.self) }
    func testDouble() { check(Double.self) }
}
