@testable import Linalg
import XCTest

/// The top-k triplets from subspace iteration agree with the full SVD's; those from the full
/// reduction with leading vectors only are exactly the full SVD's.
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
        for (m, n, k, decay) in [(600, 400, 8, 1.0), (400, 600, 3, 0.7), (1024, 256, 5, 2.0)] {
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

    /// Vectors formed for the k leading values only (top merge and back-transformations restricted
    /// to k columns) are bit for bit the first k of the full SVD, in every orientation and route.
    func testLeadingVectorsAreTheFullSVDsLeadingPart() throws {
        var generator = SeededGenerator(seed: 11)
        let uniform = Matrix<Float>.random(rows: 300, columns: 300, using: &generator)
        var deficient = matrix(200, 150, decay: 1, seed: 3)
        deficient.withMutableView { view in for i in 0..<200 { for j in 100..<150 { view[i, j] = view[i, j - 100] } } }
        let cases: [(String, Matrix<Float>, [Int])] = [
            ("square, flat spectrum", uniform, [0, 1, 37, 150, 300]),
            ("tall, through QR", matrix(900, 200, decay: 0.8, seed: 5), [25, 199]),
            ("tall, no QR", matrix(300, 200, decay: 0.8, seed: 6), [25]),
            ("wide", matrix(120, 500, decay: 1.2, seed: 7), [15, 60]),
            ("rank-deficient", deficient, [20, 120]),
            ("leaf-sized", matrix(40, 20, decay: 1, seed: 8), [9, 20]),
        ]
        for (label, a, ranks) in cases {
            let full = try SVD(a, algorithm: .bidiagonal)
            for k in ranks {
                let top = try TruncatedSVD(a, rank: k)
                XCTAssertFalse(top.iterated && k > TruncatedSVD<Float>.iterationRankLimit)
                if top.iterated { continue }
                XCTAssertEqual(top.singularValues, Array(full.singularValues.prefix(k)), "\(label) k=\(k) σ")
                XCTAssertEqual(top.u.elements, full.u.selecting(columns: Array(0..<k)).elements, "\(label) k=\(k) U")
                XCTAssertEqual(top.vt.elements, full.vt.selecting(rows: Array(0..<k)).elements, "\(label) k=\(k) Vᵀ")
            }
        }
        let double = Matrix<Double>.random(rows: 260, columns: 140, using: &generator)
        let fullDouble = try SVD(double)
        let topDouble = try TruncatedSVD(double, rank: 30)
        XCTAssertEqual(topDouble.u.elements, fullDouble.u.selecting(columns: Array(0..<30)).elements)
        XCTAssertEqual(topDouble.vt.elements, fullDouble.vt.selecting(rows: Array(0..<30)).elements)
        let zero = try TruncatedSVD(Matrix<Float>(rows: 150, columns: 130), rank: 12)
        XCTAssertEqual(zero.singularValues, [Float](repeating: 0, count: 12))
        XCTAssertEqual(zero.u.columns, 12)
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
