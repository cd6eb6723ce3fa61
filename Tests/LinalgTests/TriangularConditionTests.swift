@testable import Linalg
import TestSupport
import XCTest

/// The κ₁ estimate of triangular matrices against κ₁ from the explicit inverse: never above it
/// (every value it returns is attained by some unit vector), and within a factor 3 on triangular
/// matrices with random, graded and ill-conditioned diagonals and off-diagonal parts.
final class TriangularConditionTests: XCTestCase {
    func exactConditionNumber(_ r: Matrix<Double>) -> Double {
        let n = r.rows
        var inverse = Matrix<Double>(rows: n, columns: n)
        for column in 0..<n {
            for i in stride(from: n - 1, through: 0, by: -1) {
                var sum = i == column ? 1.0 : 0
                for k in (i + 1)..<n { sum -= r[i, k] * inverse[k, column] }
                inverse[i, column] = sum / r[i, i]
            }
        }
        let oneNorm = { (m: Matrix<Double>) in (0..<n).map { j in (0..<n).reduce(0.0) { $0 + abs(m[$1, j]) } }.max()! }
        return oneNorm(r) * oneNorm(inverse)
    }

    func testEstimateIsALowerBoundWithinAFactorThree() {
        for seed: UInt64 in [1, 2, 3, 4] {
            var generator = SeededGenerator(seed: seed)
            for n in [1, 2, 7, 40, 130] {
                for decades in [0.0, 3, 8] {
                    let b = Matrix<Double>.random(rows: n, columns: n, using: &generator)
                    let r = Matrix<Double>(rows: n, columns: n) { i, j in
                        j < i ? 0 : (i == j ? 1 + abs(b[i, j]) : b[i, j] / Double(n).squareRoot()) * pow(10, -decades * Double(i) / Double(max(1, n - 1)))
                    }
                    let exact = exactConditionNumber(r)
                    let estimate = estimatedConditionNumber(upperTriangular: r)
                    let label = "seed \(seed), n \(n), \(decades) decades"
                    XCTAssertLessThanOrEqual(estimate, exact * (1 + 1e-10), label)
                    XCTAssertGreaterThanOrEqual(estimate, exact / 3, label)
                    let narrow = estimatedConditionNumber(upperTriangular: r.converted(to: Float.self))
                    XCTAssertEqual(narrow, exact, accuracy: exact * 0.7, "\(label), Float")
                }
            }
        }
    }

    func testSingularTriangleHasInfiniteCondition() {
        var r = Matrix<Double>.identity(5)
        r[3, 3] = 0
        XCTAssertEqual(estimatedConditionNumber(upperTriangular: r), .infinity)
        XCTAssertEqual(estimatedConditionNumber(upperTriangular: Matrix<Float>.identity(4)), 1)
    }
}
