@testable import Linalg
import XCTest

/// Divide and conquer on bidiagonals: residual, orthogonality, and values-only agreement.
final class BidiagonalSVDTests: XCTestCase {
    func check(d: [Double], e: [Double], label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let n = d.count
        let full = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: true, threads: 2)
        let values = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: false, threads: 1)
        let u = full.u!, v = full.v!
        let norm = max(d.map(abs).max() ?? 0, e.map(abs).max() ?? 0)
        var residual = 0.0, uOrth = 0.0, vOrth = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var b = 0.0
                if i == j { b = d[i] } else if j == i + 1 { b = e[i] }
                var usv = 0.0, utu = 0.0, vtv = 0.0
                for p in 0..<n {
                    usv += u[i, p] * full.sigma[p] * v[j, p]
                    utu += u[p, i] * u[p, j]
                    vtv += v[p, i] * v[p, j]
                }
                residual = max(residual, abs(usv - b))
                uOrth = max(uOrth, abs(utu - (i == j ? 1 : 0)))
                vOrth = max(vOrth, abs(vtv - (i == j ? 1 : 0)))
            }
        }
        let eps = Double.ulpOfOne
        XCTAssertLessThan(residual / (max(norm, 1e-300) * Double(n) * eps), 50, "\(label) residual", file: file, line: line)
        XCTAssertLessThan(uOrth / (Double(n) * eps), 50, "\(label) U orthogonality", file: file, line: line)
        XCTAssertLessThan(vOrth / (Double(n) * eps), 50, "\(label) V orthogonality", file: file, line: line)
        for p in 1..<max(1, n) { XCTAssertGreaterThanOrEqual(full.sigma[p - 1], full.sigma[p], label, file: file, line: line) }
        for p in 0..<n {
            XCTAssertEqual(values.sigma[p], full.sigma[p], accuracy: 4 * Double(n) * eps * max(norm, 1e-300),
                           "\(label) values-only σ[\(p)]", file: file, line: line)
        }
    }

    func testRandomBidiagonals() throws {
        var generator = SeededGenerator(seed: 21)
        for n in [1, 2, 3, 10, 24, 25, 26, 49, 50, 77, 130, 300] {
            let d = (0..<n).map { _ in Double.random(in: -1...1, using: &generator) }
            let e = (0..<max(0, n - 1)).map { _ in Double.random(in: -1...1, using: &generator) }
            try check(d: d, e: e, label: "random n=\(n)")
        }
    }

    func testDeflationHeavyBidiagonals() throws {
        var generator = SeededGenerator(seed: 22)
        for n in [40, 100, 257] {
            // Identity-like: equal diagonals, tiny or zero couplings, exact zeros on the diagonal.
            try check(d: [Double](repeating: 1, count: n), e: [Double](repeating: 0, count: n - 1), label: "identity \(n)")
            try check(d: [Double](repeating: 1, count: n), e: [Double](repeating: 1e-18, count: n - 1), label: "near-identity \(n)")
            let d = (0..<n).map { i in i % 7 == 3 ? 0 : Double.random(in: 0.5...1, using: &generator) }
            let e = (0..<(n - 1)).map { i in i % 5 == 0 ? 0 : Double.random(in: -1...1, using: &generator) }
            try check(d: d, e: e, label: "zeros \(n)")
            let graded = (0..<n).map { pow(0.8, Double($0)) }
            try check(d: graded, e: graded.dropLast().map { $0 * 0.5 }, label: "graded \(n)")
            try check(d: [Double](repeating: 0, count: n), e: [Double](repeating: 0, count: n - 1), label: "zero \(n)")
        }
    }
}
