@testable import Linalg
import XCTest

/// The top-k triplets from subspace iteration agree with the full SVD's.
final class TruncatedSVDTests: XCTestCase {
    /// U·diag(σ)·Vᵀ with σᵢ = (i + 1)^(−decay) for random orthonormal U, V.
    func matrix(_ m: Int, _ n: Int, decay: Double, seed: UInt64) -> Matrix<Float> {
        var generator = SeededGenerator(seed: seed)
        let r = min(m, n)
        let u = QRFactorization(Matrix<Double>.random(rows: m, columns: r, using: &generator)).q
        let v = QRFactorization(Matrix<Double>.random(rows: n, columns: r, using: &generator)).q
        let sigma = (0..<r).map { pow(Double($0 + 1), -decay) }
        return Matrix(rows: m, columns: n) { i, j in Float((0..<r).reduce(0.0) { $0 + u[i, $1] * sigma[$1] * v[j, $1] }) }
    }

    func testAgreesWithFullSVD() throws {
        for (m, n, k, decay) in [(600, 400, 10, 1.0), (400, 600, 20, 0.7), (1024, 256, 5, 2.0)] {
            let a = matrix(m, n, decay: decay, seed: UInt64(m + n))
            let top = try TruncatedSVD(a, rank: k)
            XCTAssertTrue(top.iterated, "\(m)×\(n) k=\(k) should converge by iteration")
            let full = try SVD(a)
            for i in 0..<k {
                XCTAssertEqual(Double(top.singularValues[i]), Double(full.singularValues[i]), accuracy: 1e-5 * Double(full.singularValues[0]))
                // Same direction up to sign: |uᵢ·ûᵢ| ≈ 1 (the spectrum has distinct values).
                var dotU = 0.0, dotV = 0.0
                for p in 0..<m { dotU += Double(top.u[p, i]) * Double(full.u[p, i]) }
                for p in 0..<n { dotV += Double(top.vt[i, p]) * Double(full.vt[i, p]) }
                XCTAssertEqual(abs(dotU), 1, accuracy: 1e-3, "\(m)×\(n) u[\(i)]")
                XCTAssertEqual(dotU.sign, dotV.sign, "\(m)×\(n) triplet \(i) signs consistent")
            }
        }
    }

    /// Small or non-decaying problems fall back to the full SVD, with the same result shape.
    func testFallsBackWhenIterationDoesNotPay() throws {
        let small = matrix(60, 40, decay: 1, seed: 1)
        let top = try TruncatedSVD(small, rank: 5)
        XCTAssertFalse(top.iterated)
        XCTAssertEqual(top.u.columns, 5)
        XCTAssertEqual(top.vt.rows, 5)
        XCTAssertEqual(top.singularValues, Array(try SVD(small).singularValues.prefix(5)))
        var generator = SeededGenerator(seed: 2)
        let a = Matrix<Float>.random(rows: 200, columns: 200, using: &generator)
        XCTAssertThrowsError(try TruncatedSVD(Matrix(rows: 200, columns: 200, elements: a.elements.map { $0 == a[3, 4] ? .nan : $0 }), rank: 3))
    }
}
