import Linalg
import TestSupport
import XCTest

/// gemv, rank-1 and rank-2 updates against naive Double loops, with componentwise bounds.
final class Level2Tests: XCTestCase {
    func testGemvBothOrientationsAndStrides() {
        var generator = SeededGenerator(seed: 10)
        for (m, n) in [(0, 0), (1, 1), (0, 5), (5, 0), (3, 40), (40, 3), (17, 33), (64, 64), (129, 77)] {
            let a = Matrix<Float>.random(rows: m, columns: n + 2, using: &generator)
            for transposed in [false, true] {
                let (rows, cols) = transposed ? (n, m) : (m, n)
                let x = (0..<cols).map { _ in Float.random(in: -1...1, using: &generator) }
                let y0 = (0..<rows).map { _ in Float.random(in: -1...1, using: &generator) }
                for beta: Float in [0, 0.5] {
                    var y = beta == 0 ? [Float](repeating: .nan, count: rows) : y0
                    a.withView { full in
                        var view = full.submatrix(row: 0, column: 0, rows: m, columns: n)
                        if transposed { view = view.transposed }
                        y.withUnsafeMutableBufferPointer { y in
                            x.withUnsafeBufferPointer { x in
                                gemv(view, x.baseAddress!, into: y.baseAddress!, alpha: -1.5, beta: beta)
                            }
                        }
                    }
                    for i in 0..<rows {
                        var exact = 0.0, magnitude = 0.0
                        for j in 0..<cols {
                            let aij = Double(transposed ? a[j, i] : a[i, j])
                            exact += aij * Double(x[j])
                            magnitude += abs(aij * Double(x[j]))
                        }
                        let old = beta == 0 ? 0 : Double(y0[i])
                        exact = -1.5 * exact + Double(beta) * old
                        let bound = 2 * Double(cols + 2) * Double(Float.ulpOfOne) * (1.5 * magnitude + abs(old))
                        XCTAssertLessThanOrEqual(abs(Double(y[i]) - exact), bound, "\(m)×\(n) transposed=\(transposed)")
                    }
                }
            }
        }
    }

    func testRankOneAndRankTwoUpdates() {
        var generator = SeededGenerator(seed: 11)
        for (m, n) in [(1, 1), (5, 0), (7, 31), (33, 17), (20, 100)] {
            let x = (0..<m).map { _ in Double.random(in: -1...1, using: &generator) }
            let u = (0..<m).map { _ in Double.random(in: -1...1, using: &generator) }
            let y = (0..<n).map { _ in Double.random(in: -1...1, using: &generator) }
            let v = (0..<n).map { _ in Double.random(in: -1...1, using: &generator) }
            let a0 = Matrix<Double>.random(rows: m, columns: n + 3, using: &generator)
            var one = a0, two = a0
            one.withMutableView { view in
                rank1Update(view.submatrix(row: 0, column: 0, rows: m, columns: n), alpha: 0.75, x, y)
            }
            two.withMutableView { view in
                rank2Update(view.submatrix(row: 0, column: 0, rows: m, columns: n), x, y, u, v)
            }
            for i in 0..<m {
                for j in 0..<(n + 3) {
                    let inside = j < n
                    let expectedOne = a0[i, j] + (inside ? 0.75 * x[i] * y[j] : 0)
                    let expectedTwo = a0[i, j] + (inside ? x[i] * y[j] + u[i] * v[j] : 0)
                    XCTAssertEqual(one[i, j], expectedOne, accuracy: 8 * Double.ulpOfOne)
                    XCTAssertEqual(two[i, j], expectedTwo, accuracy: 8 * Double.ulpOfOne)
                }
            }
        }
    }
}
