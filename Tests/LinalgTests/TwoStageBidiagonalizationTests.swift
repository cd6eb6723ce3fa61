@testable import Linalg
import TestSupport
import XCTest

/// The two-stage bidiagonalization (band reduction, then bulge chasing) reproduces A with
/// orthogonal factors, to LAPACK's scaled residuals (< 50), each stage on its own and both
/// together; band widths that divide n and that do not; square, tall, rank-deficient and
/// tiny/huge-scaled input.
final class TwoStageBidiagonalizationTests: XCTestCase {
    /// ‖X − Y‖_F / s in Double (s keeps the squares of huge Double entries finite).
    func difference<T: LinalgScalar>(_ x: Matrix<T>, _ y: Matrix<T>, scale s: Double = 1) -> Double {
        zip(x.elements, y.elements).reduce(0.0) { $0 + pow((Double($1.0) - Double($1.1)) / s, 2) }.squareRoot()
    }

    func frobenius<T: LinalgScalar>(_ a: Matrix<T>, scale s: Double = 1) -> Double {
        a.elements.reduce(0.0) { $0 + pow(Double($1) / s, 2) }.squareRoot()
    }

    /// ‖QᵀQ − I‖_F / (rows·ε).
    func orthogonality<T: LinalgScalar>(_ q: Matrix<T>) -> Double {
        difference(product(q.transposed, q), .identity(q.columns)) / (Double(max(1, q.rows)) * Double(T.ulpOfOne))
    }

    /// ‖A − Q·B·Pᵀ‖_F / (‖A‖_F·m·ε), or / (m·ε) for A = 0.
    func residual<T: LinalgScalar>(_ a: Matrix<T>, q: Matrix<T>, b: Matrix<T>, p: Matrix<T>) -> Double {
        let largest = a.elements.map { abs(Double($0)) }.max() ?? 0
        let s = largest > 0 ? largest : 1
        let norm = largest > 0 ? frobenius(a, scale: s) : 1
        return difference(product(product(q, b), p.transposed), a, scale: s) / (norm * Double(max(1, a.rows)) * Double(T.ulpOfOne))
    }

    /// The test matrices, m × n: uniform, with graded columns (σ over eight decades), rank
    /// deficient (a third of the columns copies of others), zero, and uniform scaled to the edges
    /// of the exponent range.
    func matrices<T: LinalgScalar>(_: T.Type, m: Int, n: Int, seed: UInt64) -> [(String, Matrix<T>)] {
        var generator = SeededGenerator(seed: seed)
        let uniform = Matrix<T>.random(rows: m, columns: n, using: &generator)
        let graded = Matrix<T>(rows: m, columns: n) { i, j in uniform[i, j] * T(pow(10.0, -8.0 * Double(j) / Double(max(1, n - 1)))) }
        let deficient = Matrix<T>(rows: m, columns: n) { i, j in uniform[i, j % max(1, (2 * n) / 3)] }
        let tiny = Matrix<T>(rows: m, columns: n) { i, j in uniform[i, j] * T.leastNormalMagnitude * 16 }
        let huge = Matrix<T>(rows: m, columns: n) { i, j in uniform[i, j] * T.greatestFiniteMagnitude / 64 / T(m) }
        return [("uniform", uniform), ("graded", graded), ("rank-deficient", deficient), ("zero", Matrix(rows: m, columns: n)),
                ("tiny", tiny), ("huge", huge)]
    }

    func checkTwoStage<T: LinalgScalar>(_: T.Type, m: Int, n: Int, bandwidth: Int, seed: UInt64,
                                        file: StaticString = #filePath, line: UInt = #line) {
        for (kind, a) in matrices(T.self, m: m, n: n, seed: seed) {
            let label = "\(T.self) \(kind) \(m)×\(n) band \(bandwidth)"
            // First stage alone: A = Q₁·B_b·P₁ᵀ with B_b upper triangular of bandwidth b.
            let first = BandReduction(a, bandwidth: bandwidth, threads: 2)
            var q1 = Matrix<T>(rows: m, columns: n) { i, j in i == j ? 1 : 0 }
            var p1 = Matrix<T>.identity(n)
            q1.withMutableView { first.multiplyQ($0, threads: 2) }
            p1.withMutableView { first.multiplyP($0, threads: 2) }
            let band = Matrix<T>(rows: n, columns: n) { i, j in j >= i && j <= i + bandwidth ? first.factors[i, j] : 0 }
            XCTAssertLessThan(residual(a, q: q1, b: band, p: p1), 50, "\(label): band residual", file: file, line: line)
            XCTAssertLessThan(orthogonality(q1), 50, "\(label): Q₁", file: file, line: line)
            XCTAssertLessThan(orthogonality(p1), 50, "\(label): P₁", file: file, line: line)
            // Both stages: A = Q·B·Pᵀ with B upper bidiagonal.
            let reduction = TwoStageBidiagonalization(a, bandwidth: bandwidth, threads: 2)
            var q = Matrix<T>(rows: m, columns: n) { i, j in i == j ? 1 : 0 }
            var p = Matrix<T>.identity(n)
            reduction.multiplyQ(&q, threads: 2)
            reduction.multiplyP(&p, threads: 2)
            let b = Matrix<T>(rows: n, columns: n) { i, j in
                i == j ? reduction.diagonal[i] : (j == i + 1 ? reduction.superdiagonal[i] : 0)
            }
            XCTAssertLessThan(residual(a, q: q, b: b, p: p), 50, "\(label): bidiagonal residual", file: file, line: line)
            XCTAssertLessThan(orthogonality(q), 50, "\(label): Q", file: file, line: line)
            XCTAssertLessThan(orthogonality(p), 50, "\(label): P", file: file, line: line)
        }
    }

    func testSquareBandWidthsThatDivideNAndThatDoNot() {
        for (n, b) in [(24, 4), (24, 8), (23, 4), (37, 5), (40, 16), (33, 32)] {
            checkTwoStage(Float.self, m: n, n: n, bandwidth: b, seed: UInt64(n * 100 + b))
        }
        checkTwoStage(Double.self, m: 30, n: 30, bandwidth: 6, seed: 3)
        checkTwoStage(Double.self, m: 29, n: 29, bandwidth: 3, seed: 4)
    }

    func testTallAndTiny() {
        for (m, n, b) in [(50, 30, 4), (61, 40, 7), (100, 17, 8), (3, 3, 2), (2, 2, 2), (1, 1, 4), (5, 1, 2), (9, 4, 8)] {
            checkTwoStage(Float.self, m: m, n: n, bandwidth: b, seed: UInt64(m * 1000 + n))
        }
        checkTwoStage(Double.self, m: 45, n: 26, bandwidth: 5, seed: 9)
    }

    /// The chase's reflectors give the same product one at a time (C narrower than the band) and
    /// in staircase blocks (wider): the blocks keep every overlapping pair in order.
    func testChaseReflectorsBlockedAndOneByOneAgree() {
        for (n, b) in [(31, 4), (40, 8), (17, 16)] {
            var generator = SeededGenerator(seed: UInt64(n + b))
            let a = Matrix<Double>.random(rows: n, columns: n, using: &generator)
            let first = BandReduction(a, bandwidth: b, threads: 1)
            let chase = BulgeChase(band: first.band, order: n, bandwidth: b)
            let c = Matrix<Double>.random(rows: n, columns: b + 3, using: &generator)
            var blocked = c
            blocked.withMutableView { chase.multiplyQ($0, threads: 1) }
            var single = c
            for j in 0..<c.columns {
                var column = Matrix<Double>(rows: n, columns: 1) { i, _ in c[i, j] }
                column.withMutableView { chase.multiplyQ($0, threads: 1) }
                single.withMutableView { s in for i in 0..<n { s[i, j] = column[i, 0] } }
            }
            XCTAssertLessThan(difference(blocked, single) / (frobenius(c) * Double(n) * Double.ulpOfOne), 50, "\(n) band \(b)")
        }
    }

    /// The pipelined chase (two threads, each step after the previous sweep's overlapping steps)
    /// gives bit for bit the bidiagonal and the reflectors of one sweep after the other.
    func testPipelinedChaseIsThreadCountIndependent() {
        for (n, b) in [(130, 8), (97, 13), (64, 32)] {
            var generator = SeededGenerator(seed: UInt64(n * b))
            let a = Matrix<Float>.random(rows: n, columns: n, using: &generator)
            let band = BandReduction(a, bandwidth: b, threads: 1).band
            let one = BulgeChase(band: band, order: n, bandwidth: b, threads: 1)
            let two = BulgeChase(band: band, order: n, bandwidth: b, threads: 2)
            XCTAssertEqual(one.diagonal, two.diagonal, "\(n) band \(b)")
            XCTAssertEqual(one.superdiagonal, two.superdiagonal, "\(n) band \(b)")
            var (q1, q2) = (Matrix<Float>.identity(n), Matrix<Float>.identity(n))
            var (p1, p2) = (Matrix<Float>.identity(n), Matrix<Float>.identity(n))
            q1.withMutableView { one.multiplyQ($0, threads: 1) }
            q2.withMutableView { two.multiplyQ($0, threads: 1) }
            p1.withMutableView { one.multiplyP($0, threads: 1) }
            p2.withMutableView { two.multiplyP($0, threads: 1) }
            XCTAssertEqual(q1.elements, q2.elements, "\(n) band \(b): Q₂")
            XCTAssertEqual(p1.elements, p2.elements, "\(n) band \(b): P₂")
        }
    }

    /// The bidiagonal's singular values are A's: against the one-stage reduction's, through the
    /// same divide and conquer.
    func testSingularValuesAgreeWithTheOneStageReduction() throws {
        var generator = SeededGenerator(seed: 77)
        let a = Matrix<Float>.random(rows: 150, columns: 120, using: &generator)
        let two = TwoStageBidiagonalization(a, bandwidth: 16, threads: 2)
        let one = Bidiagonalization(a)
        func values(_ r: some BidiagonalReduction<Float>) throws -> [Double] {
            try BidiagonalDivideAndConquer.svd(d: r.diagonal.map { Double($0) }, e: r.superdiagonal.map { Double($0) },
                                              vectors: false, threads: 1, precision: Double.self).sigma
        }
        let (s2, s1) = (try values(two), try values(one))
        for (x, y) in zip(s2, s1) { XCTAssertLessThan(abs(x - y), 50 * 150 * Double(Float.ulpOfOne) * s1[0]) }
    }
}
