@testable import Linalg
import TestSupport
import XCTest

/// The leading triplets are the full SVD's (exactly, or to roundoff where U is formed through A);
/// σ₁ by power iteration agrees with it.
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

    /// A truncated SVD of few vectors from n = 1024 goes through the two-stage reduction while the
    /// full SVD does not: σ within 8·n·ε·σ₁ of the full SVD's, and the triplets to LAPACK's
    /// standards — ‖A·V − U·Σ‖_F/(‖A‖_F·n·ε) and the orthogonality of U and V below 50.
    func testFewVectorsOfALargeMatrixThroughTheBand() throws {
        let (n, k) = (1030, 200)
        XCTAssertTrue(BidiagonalPathSVD<Float>.reducesInTwoStages(columns: n, vectorColumns: 250))
        var generator = SeededGenerator(seed: 17)
        let a = Matrix<Float>.random(rows: n, columns: n, using: &generator)
        let top = try TruncatedSVD(a, rank: k, threads: 2)
        let full = try SVD(a, algorithm: .bidiagonal, threads: 2)
        let eps = Double(Float.ulpOfOne), sigma1 = Double(full.singularValues[0])
        for i in 0..<k {
            XCTAssertEqual(Double(top.singularValues[i]), Double(full.singularValues[i]), accuracy: 8 * Double(n) * eps * sigma1,
                           "σ[\(i)]")
        }
        let av = product(a, top.vt, transposeB: true)
        var residual = 0.0, norm = 0.0
        for i in 0..<n {
            for j in 0..<k { residual += pow(Double(av[i, j]) - Double(top.u[i, j]) * Double(top.singularValues[j]), 2) }
        }
        for x in a.elements { norm += Double(x) * Double(x) }
        XCTAssertLessThan(residual.squareRoot() / (norm.squareRoot() * Double(n) * eps), 50, "‖A·V − U·Σ‖")
        func orthogonality(_ q: Matrix<Float>) -> Double {
            let gram = product(q, q, transposeA: true)
            var sum = 0.0
            for i in 0..<k { for j in 0..<k { sum += pow(Double(gram[i, j]) - (i == j ? 1 : 0), 2) } }
            return sum.squareRoot() / (Double(n) * eps)
        }
        XCTAssertLessThan(orthogonality(top.u), 50, "UᵀU − I")
        XCTAssertLessThan(orthogonality(top.vt.transposed), 50, "VᵀV − I")
    }

    /// Vectors formed for the k leading values only (top merge and back-transformations restricted
    /// to k columns) are bit for bit the first k of the full SVD, in every orientation and route —
    /// except the strong columns of U (σᵢ ≥ σ₁/128) on the bidiagonal path, which are A·vᵢ/σᵢ: there
    /// each column agrees with the full SVD's to 50·max(m, n)·ε·σ₁/σᵢ, and the weak ones (the
    /// 900×200, the wide case at their larger k and the rank-deficient one have some) still bit for bit.
    func testLeadingVectorsAreTheFullSVDsLeadingPart() throws {
        var generator = SeededGenerator(seed: 11)
        let uniform = Matrix<Float>.random(rows: 300, columns: 300, using: &generator)
        var deficient = matrix(200, 150, decay: 1, seed: 3)
        deficient.withMutableView { view in for i in 0..<200 { for j in 100..<150 { view[i, j] = view[i, j - 100] } } }
        let cases: [(String, Matrix<Float>, [Int])] = [
            ("square, flat spectrum", uniform, [0, 1, 37, 150, 300]),
            ("tall, through QR", matrix(900, 200, decay: 1.1, seed: 5), [25, 199]),
            ("tall, no QR", matrix(300, 200, decay: 0.8, seed: 6), [25]),
            ("wide", matrix(120, 500, decay: 1.2, seed: 7), [15, 60]),
            ("rank-deficient", deficient, [20, 120]),
            ("leaf-sized", matrix(40, 20, decay: 1, seed: 8), [9, 20]),
            ("Jacobi-sized", matrix(30, 12, decay: 1, seed: 9), [5]),
        ]
        for (label, a, ranks) in cases {
            let full = try SVD(a)
            for k in ranks {
                let top = try TruncatedSVD(a, rank: k)
                XCTAssertEqual(top.singularValues, Array(full.singularValues.prefix(k)), "\(label) k=\(k) σ")
                assertLeadingVectors(top, of: full, k: k, label: label)
            }
        }
        let double = Matrix<Double>.random(rows: 260, columns: 140, using: &generator)
        assertLeadingVectors(try TruncatedSVD(double, rank: 30), of: try SVD(double), k: 30, label: "Double 260×140")
        let zero = try TruncatedSVD(Matrix<Float>(rows: 150, columns: 130), rank: 12)
        XCTAssertEqual(zero.singularValues, [Float](repeating: 0, count: 12))
        XCTAssertEqual(zero.u.columns, 12)
        XCTAssertThrowsError(try TruncatedSVD(Matrix(rows: 200, columns: 200, elements: uniform.elements.prefix(40_000).map {
            $0 == uniform[3, 4] ? .nan : $0 }), rank: 3))
    }

    /// The leading vectors against the full SVD's. A tall matrix forms U, a wide one V (through
    /// its transpose); the other factor is bit for bit the full SVD's. So is the formed one on the
    /// Jacobi path (r ≤ 16) and when k = r; otherwise its strong columns (σᵢ ≥ σ₁/128) differ by the
    /// SVD's residual over σᵢ, (A·vᵢ − σᵢ·uᵢ)/σᵢ: below 50·r·ε·σ₁/σᵢ in the 2-norm (LAPACK's
    /// residual scaling), and the others bit for bit.
    func assertLeadingVectors<T: LinalgScalar>(_ top: TruncatedSVD<T>, of full: SVD<T>, k: Int, label: String,
                                               file: StaticString = #filePath, line: UInt = #line) {
        let wide = full.u.rows < full.vt.columns
        let (formed, formedFull) = wide ? (top.vt.transposed, full.vt.transposed) : (top.u, full.u)
        let (other, otherFull) = wide ? (top.u, full.u.selecting(columns: Array(0..<k)))
                                      : (top.vt, full.vt.selecting(rows: Array(0..<k)))
        XCTAssertEqual(other.elements, otherFull.elements, "\(label) k=\(k) \(wide ? "U" : "Vᵀ")", file: file, line: line)
        let (long, r) = (formedFull.rows, formedFull.columns)
        let sigma = full.singularValues
        let bidiagonalPath = !SVDAlgorithm.auto.usesJacobi(rank: r)
        for j in 0..<k {
            var squares = 0.0
            for i in 0..<long { squares += pow(Double(formed[i, j] - formedFull[i, j]), 2) }
            let difference = squares.squareRoot()
            if bidiagonalPath && k < r && sigma[j] >= sigma[0] / T(DirectLeftVectors.strongRatio) {
                let scale = Double(r) * Double(T.ulpOfOne) * Double(sigma[0] / sigma[j])
                XCTAssertLessThan(difference / scale, 50, "\(label) k=\(k) vector \(j)", file: file, line: line)
            } else {
                XCTAssertEqual(difference, 0, "\(label) k=\(k) vector \(j)", file: file, line: line)
            }
        }
    }

    /// σ₁ from power iteration matches the full SVD's to 4·ε·√max(m, n)·σ₁, for separated, nearly
    /// equal (σ₂ = σ₁(1 − 10⁻⁴)), rank-one, vector-shaped, zero and extreme-scale matrices.
    func testLargestSingularValue() throws {
        var generator = SeededGenerator(seed: 12)
        var closePair = Matrix<Float>(rows: 500, columns: 400)
        let q1 = QRFactorization(Matrix<Double>.random(rows: 500, columns: 3, using: &generator)).q
        let q2 = QRFactorization(Matrix<Double>.random(rows: 400, columns: 3, using: &generator)).q
        for (s, sigma) in [1.0, 1.0 - 1e-4, 0.3].enumerated() {
            for i in 0..<500 { for j in 0..<400 { closePair[i, j] += Float(sigma * q1[i, s] * q2[j, s]) } }
        }
        let cases: [(String, Matrix<Float>)] = [
            ("uniform", Matrix<Float>.random(rows: 700, columns: 300, using: &generator)),
            ("decaying", matrix(300, 500, decay: 0.8, seed: 10)),
            ("close pair", closePair),
            ("rank one", Matrix(rows: 200, columns: 100) { i, j in Float(i + 1) * Float(j % 7 + 1) }),
            ("row", Matrix<Float>.random(rows: 1, columns: 50, using: &generator)),
            ("column", Matrix<Float>.random(rows: 50, columns: 1, using: &generator)),
            ("tiny", Matrix(rows: 60, columns: 40) { i, j in Float(sin(Double(i * 40 + j))) * 1e-30 }),
            ("huge", Matrix(rows: 60, columns: 40) { i, j in Float(sin(Double(i * 40 + j))) * 1e30 }),
        ]
        for (label, a) in cases {
            let expected = try SVD(a).singularValues[0]
            let value = try largestSingularValue(of: a)
            let bound = 4 * Float(Double(max(a.rows, a.columns)).squareRoot()) * Float.ulpOfOne * expected
            XCTAssertEqual(value, expected, accuracy: bound, label)
        }
        XCTAssertEqual(try largestSingularValue(of: Matrix<Float>(rows: 30, columns: 20)), 0)
        let double = Matrix<Double>.random(rows: 300, columns: 200, using: &generator)
        XCTAssertEqual(try largestSingularValue(of: double), try SVD(double).singularValues[0],
                       accuracy: 1e-13 * (try SVD(double).singularValues[0]))
        var broken = closePair
        broken[7, 9] = .infinity
        XCTAssertThrowsError(try largestSingularValue(of: broken))
    }
}
