@testable import Linalg
import TestSupport
import XCTest

/// QR and bidiagonalization reproduce A with orthogonal factors, to LAPACK's scaled residuals.
final class HouseholderTests: XCTestCase {
    func frobenius<T: LinalgScalar>(_ a: Matrix<T>) -> Double {
        a.elements.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    func difference<T: LinalgScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Double {
        zip(a.elements, b.elements).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }.squareRoot()
    }

    /// ‖QᵀQ − I‖ / (m·ε)
    func orthogonality<T: LinalgScalar>(_ q: Matrix<T>) -> Double {
        difference(product(q.transposed, q), .identity(q.columns)) / (Double(max(1, q.rows)) * Double(T.ulpOfOne))
    }

    func checkQR<T: LinalgScalar>(_: T.Type, m: Int, n: Int, blockSize: Int = 8, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let a = Matrix<T>.random(rows: m, columns: n, using: &generator)
        let qr = QRFactorization(a, blockSize: blockSize)
        let q = qr.q, r = qr.r
        let residual = difference(product(q, r), a) / (max(frobenius(a), 1e-300) * Double(max(1, m)) * Double(T.ulpOfOne))
        XCTAssertLessThan(residual, 50, "QR \(T.self) \(m)×\(n) residual")
        XCTAssertLessThan(orthogonality(q), 50, "QR \(T.self) \(m)×\(n) orthogonality")
        // Qᵀ·A = [R; 0], through the transposed application.
        var qta = a
        qr.multiplyQ(&qta, transpose: true)
        let stacked = Matrix<T>(rows: m, columns: n) { i, j in i < n ? r[i, j] : 0 }
        let transposedResidual = difference(qta, stacked) / (max(frobenius(a), 1e-300) * Double(max(1, m)) * Double(T.ulpOfOne))
        XCTAssertLessThan(transposedResidual, 50, "QR \(T.self) \(m)×\(n) Qᵀ·A")
    }

    func checkBidiagonalization<T: LinalgScalar>(_: T.Type, m: Int, n: Int, blockSize: Int = 8, threads: Int? = nil,
                                                 seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let a = Matrix<T>.random(rows: m, columns: n, using: &generator)
        let reduction = Bidiagonalization(a, blockSize: blockSize, threads: threads)
        var q = Matrix<T>(rows: m, columns: n) { i, j in i == j ? 1 : 0 }
        reduction.multiplyQ(&q)
        var p = Matrix<T>.identity(n)
        reduction.multiplyP(&p)
        let b = Matrix<T>(rows: n, columns: n) { i, j in
            i == j ? reduction.diagonal[i] : (j == i + 1 ? reduction.superdiagonal[i] : 0)
        }
        let residual = difference(product(product(q, b), p.transposed), a)
            / (max(frobenius(a), 1e-300) * Double(max(1, m)) * Double(T.ulpOfOne))
        XCTAssertLessThan(residual, 50, "bidiagonalization \(T.self) \(m)×\(n) residual")
        XCTAssertLessThan(orthogonality(q), 50, "bidiagonalization \(T.self) \(m)×\(n) Q")
        XCTAssertLessThan(orthogonality(p), 50, "bidiagonalization \(T.self) \(m)×\(n) P")
    }

    /// The four-vector update of the QR panel, every length through two SIMD widths and a tail.
    func testAxpyIntoFourVectors() {
        var generator = SeededGenerator(seed: 31)
        for count in 0...40 {
            let x = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
            let y = (0..<4).map { _ in (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
            let a: (Float, Float, Float, Float) = (0.5, -1.25, 3, -0.75)
            var result = y.flatMap { $0 }
            x.withUnsafeBufferPointer { x in
                result.withUnsafeMutableBufferPointer { r in
                    let base = r.baseAddress!
                    axpy4(a, x.baseAddress!, into: (base, base + count, base + 2 * count, base + 3 * count), count: count)
                }
            }
            let scales = [a.0, a.1, a.2, a.3]
            for q in 0..<4 {
                for i in 0..<count {
                    XCTAssertEqual(result[q * count + i], y[q][i] + scales[q] * x[i], "length \(count), vector \(q), entry \(i)")
                }
            }
        }
    }

    func testQR() {
        for (m, n) in [(0, 0), (1, 1), (5, 1), (7, 7), (20, 9), (33, 17), (64, 64), (100, 37)] {
            checkQR(Float.self, m: m, n: n, seed: UInt64(m * 100 + n))
            checkQR(Double.self, m: m, n: n, seed: UInt64(m * 100 + n))
        }
        // The default blocks (64 columns, panels of 32), with products large enough for two threads.
        checkQR(Float.self, m: 700, n: 150, blockSize: 64, seed: 5)
    }

    /// A·P = Q·R with Q orthonormal, and the pivoting's invariant |r_kk| ≥ ‖R[k…j, j]‖ for j > k
    /// (to roundoff), on a matrix whose columns span eight decades in random order.
    func testPivotedQR() {
        var generator = SeededGenerator(seed: 41)
        for (m, n, threads) in [(0, 0, 1), (1, 1, 1), (9, 4, 1), (40, 40, 1), (150, 90, 2)] {
            let b = Matrix<Double>.random(rows: m, columns: n, using: &generator)
            let scales = (0..<n).map { _ in pow(10, -8 * Double.random(in: 0...1, using: &generator)) }
            let a = Matrix<Float>(rows: m, columns: n) { i, j in Float(b[i, j] * scales[j]) }
            let qr = PivotedQRFactorization(a, threads: threads)
            XCTAssertEqual(qr.permutation.sorted(), Array(0..<n))
            var q = Matrix<Float>(rows: m, columns: n) { i, j in i == j ? 1 : 0 }
            qr.multiplyQ(&q, transpose: false, threads: threads)
            let r = qr.r, permuted = a.selecting(columns: qr.permutation)
            let residual = difference(product(q, r), permuted) / (max(frobenius(a), 1e-300) * Double(max(1, m)) * Double(Float.ulpOfOne))
            XCTAssertLessThan(residual, 50, "pivoted QR \(m)×\(n) residual")
            XCTAssertLessThan(orthogonality(q), 50, "pivoted QR \(m)×\(n) orthogonality")
            for k in 0..<n {
                for j in (k + 1)..<max(k + 1, n) {
                    let tail = (k...j).reduce(0.0) { $0 + Double(r[$1, j]) * Double(r[$1, j]) }.squareRoot()
                    XCTAssertGreaterThanOrEqual(Double(abs(r[k, k])) * (1 + 1e-5), tail, "pivoted QR \(m)×\(n): column \(j) beats pivot \(k)")
                }
            }
        }
    }

    func testBidiagonalization() {
        for (m, n) in [(0, 0), (1, 1), (2, 2), (5, 1), (7, 7), (20, 9), (33, 17), (64, 64), (100, 37), (90, 90)] {
            checkBidiagonalization(Float.self, m: m, n: n, seed: UInt64(m * 100 + n))
            checkBidiagonalization(Double.self, m: m, n: n, seed: UInt64(m * 100 + n))
        }
    }

    /// The fused pass against its definition summed in Double, for row counts that give one to
    /// eight chunks (and rows not a multiple of four), with the same bits on one, two and three
    /// threads (the size threshold for threads set to zero).
    func testFusedProductPassInRowChunks() {
        for (m, n) in [(5, 1), (130, 7), (517, 300), (1030, 33)] {
            var generator = SeededGenerator(seed: UInt64(m * 1000 + n))
            let a = Matrix<Float>.random(rows: m, columns: n, using: &generator)
            let u = Matrix<Float>.random(rows: 1, columns: n, using: &generator).elements
            let x0 = Matrix<Float>.random(rows: 1, columns: m, using: &generator).elements
            let c0 = Matrix<Float>.random(rows: 1, columns: m, using: &generator).elements
            let tau: Float = 1.25
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                var (x, c) = (x0, c0)
                var w = [Float](repeating: .nan, count: n)
                var partials = [Float](repeating: .nan, count: (FusedProductPass.maximumChunks - 1) * n)
                a.withView { a in
                    FusedProductPass.run(a, u, tau: tau, x: &x, column: &c, w: &w, partials: &partials, threads: threads,
                                         parallelBytes: 0)
                }
                results.append(x + c + w.dropLast())
            }
            XCTAssertEqual(results[1], results[0], "\(m)×\(n) on 2 threads")
            XCTAssertEqual(results[2], results[0], "\(m)×\(n) on 3 threads")
            var expected = [Double](repeating: 0, count: 2 * m + n - 1)
            for r in 0..<m {
                let product = (0..<n).reduce(0.0) { $0 + Double(a[r, $1]) * Double(u[$1]) }
                let x = Double(tau) * (product + Double(x0[r]))
                let c = Double(a[r, 0]) + Double(c0[r]) - x
                (expected[r], expected[m + r]) = (x, c)
                for j in 1..<n { expected[2 * m + j - 1] += c * Double(a[r, j]) }
            }
            let scale = Double(m + n) * Double(Float.ulpOfOne) * 8
            for (index, value) in results[0].enumerated() {
                XCTAssertEqual(Double(value), expected[index], accuracy: scale * max(1, abs(expected[index])),
                               "\(m)×\(n) entry \(index)")
            }
        }
    }

    /// A reduction whose first trailing matrices are above the threads' size threshold: the same
    /// residuals, and the same bits on one, two and three threads.
    func testBidiagonalizationIsThreadCountIndependent() {
        let (m, n) = (1100, 960)
        checkBidiagonalization(Float.self, m: m, n: n, blockSize: 32, threads: 2, seed: 11)
        var generator = SeededGenerator(seed: 11)
        let a = Matrix<Float>.random(rows: m, columns: n, using: &generator)
        let reference = Bidiagonalization(a, threads: 1)
        for threads in [2, 3] {
            let reduction = Bidiagonalization(a, threads: threads)
            XCTAssertEqual(reduction.factors.elements, reference.factors.elements, "on \(threads) threads")
            XCTAssertEqual(reduction.diagonal, reference.diagonal, "on \(threads) threads")
            XCTAssertEqual(reduction.superdiagonal, reference.superdiagonal, "on \(threads) threads")
        }
    }

    /// Applying stored reflectors in blocks of 128 (the default from 4096 rows), 64 or an odd 37 is the
    /// same product: Q·C agrees across block sizes to rounding, and Qᵀ·(Q·C) = C, at sizes the
    /// suite can afford (the default's switch itself is checked at its threshold).
    func testReflectorBlockSizesGiveTheSameProduct() {
        XCTAssertEqual(reflectorBlockSize(rows: 4095), 64)
        XCTAssertEqual(reflectorBlockSize(rows: 4096), 128)
        var generator = SeededGenerator(seed: 23)
        for (m, k) in [(300, 200), (260, 130)] {
            let qr = QRFactorization(Matrix<Double>.random(rows: m, columns: k, using: &generator))
            let c = Matrix<Double>.random(rows: m, columns: 50, using: &generator)
            let products = [128, 64, 37].map { blockSize in
                var result = c
                qr.factors.withView { stored in
                    result.withMutableView { applyReflectors(stored, tau: qr.tau, to: $0, transpose: false, blockSize: blockSize) }
                }
                return result
            }
            let scale = frobenius(c) * Double(m) * Double.ulpOfOne
            for other in products.dropFirst() {
                XCTAssertLessThan(difference(products[0], other) / scale, 10, "\(m)×\(k): Q·C differs between block sizes")
            }
            var back = products[0]
            qr.factors.withView { stored in
                back.withMutableView { applyReflectors(stored, tau: qr.tau, to: $0, transpose: true, blockSize: 128) }
            }
            XCTAssertLessThan(difference(back, c) / scale, 10, "\(m)×\(k): Qᵀ·Q·C ≠ C with 128-reflector blocks")
        }
    }
}
