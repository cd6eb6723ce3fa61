@testable import Linalg
import TestSupport
import XCTest

/// The Jacobi SVD's routes, each on matrices that take it (checked on the preconditioning, so a
/// change of the routing rules cannot silently leave one untested), to LAPACK's standards
/// (`lapackRatios` below 50) and bitwise the same on 1, 2 and 3 threads:
/// - not graded: Float pivoted QR, the iteration without accumulated rotations, U from R·V·Σ⁻¹
///   made orthonormal (`JacobiLeftVectors`);
/// - tall (m ≥ 2n) with even rows: the blocked QR of A first; its R₀ is R when its estimated κ₁ is
///   small, else the pivoted QR of R₀ follows; tall with graded rows but an R that does not look
///   graded: the pivoted QR of A itself, then as above;
/// - graded (R's diagonal falling by more than 1/√ε) or rank deficient: the QR in Double and
///   accumulated rotations;
/// - wide: the transpose's SVD.
/// Every R has more than two blocks of rows (so the block Jacobi with its cross-block-first late
/// sweeps runs), some a row count no multiple of the block size (32). U's orthogonality is held to
/// 10 rather than LAPACK's 50 (measured ≤ 2.4 on every route): U = R·V·Σ⁻¹ without its QR measured
/// up to 21 on the uniform matrices and 47–48 on the one with κ(A) = 1000 (R's diagonal still
/// spread by less than 1/√ε, so it takes that route).
final class JacobiRouteTests: XCTestCase {
    enum Route { case leftVectorsFromR, tall, tallUnpivoted, accumulated }

    /// B (uniform entries, well conditioned) with rows scaled by 10^(−rowDecades·t) and columns by
    /// 10^(−columnDecades·t), t evenly spaced over [0, 1] in a shuffled order; `rank` < min(m, n)
    /// makes B the product of m×rank and rank×n factors, `condition` makes it Q₁·diag(σ)·Q₂ᵀ with σ
    /// geometric from 1 to 1/condition and Q₁, Q₂ random orthonormal; `unitRows` scales B's rows to
    /// norm 1 (which changes κ by at most the spread of the row norms).
    func matrix(_ m: Int, _ n: Int, rowDecades: Double = 0, columnDecades: Double = 0, rank: Int? = nil,
                condition: Double? = nil, unitRows: Bool = false, _ generator: inout SeededGenerator) -> Matrix<Double> {
        var b: Matrix<Double>
        if let condition {
            let r = min(m, n)
            let left = QRFactorization(Matrix<Double>.random(rows: m, columns: r, using: &generator)).q
            let right = QRFactorization(Matrix<Double>.random(rows: n, columns: r, using: &generator)).q
            let sigma = (0..<r).map { pow(condition, -Double($0) / Double(max(1, r - 1))) }
            b = Matrix(rows: m, columns: n) { i, j in (0..<r).reduce(0.0) { $0 + left[i, $1] * sigma[$1] * right[j, $1] } }
        } else if let rank {
            b = product(Matrix<Double>.random(rows: m, columns: rank, using: &generator),
                        Matrix<Double>.random(rows: rank, columns: n, using: &generator))
        } else {
            b = .random(rows: m, columns: n, using: &generator)
        }
        if unitRows {
            for i in 0..<m {
                let norm = (0..<n).reduce(0.0) { $0 + b[i, $1] * b[i, $1] }.squareRoot()
                for j in 0..<n { b[i, j] /= norm }
            }
        }
        func grading(_ count: Int, _ decades: Double) -> [Double] {
            (0..<count).map { pow(10, -decades * Double($0) / Double(max(1, count - 1))) }.shuffled(using: &generator)
        }
        let (rows, columns) = (grading(m, rowDecades), grading(n, columnDecades))
        return Matrix(rows: m, columns: n) { i, j in rows[i] * b[i, j] * columns[j] }
    }

    /// The route `jacobiSVD` takes for `a` (m ≥ n), read off its preconditioning as `jacobiSVD` does.
    func route<T: LinalgScalar>(_ a: Matrix<T>) -> Route {
        let preconditioning = JacobiPreconditioning(a, threads: 1)
        let n = a.columns
        let r = preconditioning.r
        let diagonal = (0..<n).map { abs(Double(r[$0, $0])) }
        let rankDeficient = (1..<n).contains { diagonal[$0] < Double(T.ulpOfOne) * diagonal[$0 - 1] }
        if rankDeficient || diagonal[0] > diagonal[n - 1] / Double(T.ulpOfOne).squareRoot() { return .accumulated }
        if preconditioning.leading == nil { return .leftVectorsFromR }
        return preconditioning.pivoted == nil ? .tallUnpivoted : .tall
    }

    func check<T: LinalgScalar>(_ a: Matrix<T>, expecting expected: Route, _ label: String) throws {
        XCTAssertEqual(route(a.rows >= a.columns ? a : a.transposed), expected, "\(label): route")
        let svds = try [1, 2, 3].map { try SVD(a, algorithm: .jacobi, threads: $0) }
        let (residual, u, v) = lapackRatios(a, svds[0])
        XCTAssertLessThan(residual, 50, "\(label): residual")
        XCTAssertLessThan(u, 10, "\(label): UᵀU − I")
        XCTAssertLessThan(v, 50, "\(label): VᵀV − I")
        for (threads, svd) in zip([2, 3], svds.dropFirst()) {
            XCTAssertEqual(svd.singularValues, svds[0].singularValues, "\(label): σ on \(threads) threads")
            XCTAssertEqual(svd.u, svds[0].u, "\(label): U on \(threads) threads")
            XCTAssertEqual(svd.vt, svds[0].vt, "\(label): Vᵀ on \(threads) threads")
        }
    }

    func testEveryRouteMeetsLAPACKRatiosOnAnyThreadCount() throws {
        for seed: UInt64 in [1, 2, 3] {
            var generator = SeededGenerator(seed: seed)
            let cases: [(Matrix<Double>, Route, String)] = [
                (matrix(150, 150, &generator), .leftVectorsFromR, "150² uniform"),
                (matrix(161, 97, &generator), .leftVectorsFromR, "161×97 uniform"),
                (matrix(150, 150, condition: 1000, &generator), .leftVectorsFromR, "150² κ 1000"),
                (matrix(400, 130, &generator), .tallUnpivoted, "400×130 uniform"),
                (matrix(260, 130, &generator), .tallUnpivoted, "260×130 uniform (m = 2n)"),
                (matrix(400, 130, condition: 2000, unitRows: true, &generator), .tall, "400×130 κ 2000 (R₀ pivoted)"),
                (matrix(400, 130, rowDecades: 6, &generator), .leftVectorsFromR, "400×130 graded rows (A itself pivoted)"),
                (matrix(400, 130, rowDecades: 6, columnDecades: 6, &generator), .accumulated, "400×130 graded both"),
                (matrix(150, 150, columnDecades: 6, &generator), .accumulated, "150² graded columns"),
                (matrix(161, 97, rowDecades: 4, columnDecades: 4, &generator), .accumulated, "161×97 graded both"),
                (matrix(200, 150, rank: 75, &generator), .accumulated, "200×150 rank 75"),
                (matrix(130, 400, &generator), .tallUnpivoted, "130×400 uniform (wide)"),
            ]
            for (a, expected, label) in cases {
                try check(a.converted(to: Float.self), expecting: expected, "seed \(seed) Float \(label)")
            }
            try check(matrix(161, 97, &generator), expecting: .leftVectorsFromR, "seed \(seed) Double 161×97 uniform")
            try check(matrix(400, 130, &generator), expecting: .tallUnpivoted, "seed \(seed) Double 400×130 uniform")
            try check(matrix(161, 97, columnDecades: 10, &generator), expecting: .accumulated, "seed \(seed) Double 161×97 graded columns")
        }
    }
}
