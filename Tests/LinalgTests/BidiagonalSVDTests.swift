@testable import Linalg
import TestSupport
import XCTest

/// Divide and conquer on bidiagonals: residual, orthogonality, and values-only agreement.
final class BidiagonalSVDTests: XCTestCase {
    /// Checks both precisions of the accumulated vectors: Double, and Float (what a Float SVD uses),
    /// each against its own ε.
    func check(d: [Double], e: [Double], label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let values = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: false, threads: 1, precision: Double.self).sigma
        try check(d: d, e: e, values: values, label: "\(label) Double", precision: Double.self, file: file, line: line)
        try check(d: d, e: e, values: values, label: "\(label) Float", precision: Float.self, file: file, line: line)
    }

    /// Residual, orthogonality and agreement with the values-only σ for vectors in precision V.
    func check<V: LinalgScalar>(d: [Double], e: [Double], values: [Double], label: String, precision: V.Type,
                                file: StaticString, line: UInt) throws {
        let n = d.count
        let full = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: true, threads: 2, precision: V.self)
        let u = full.u!.converted(to: Double.self), v = full.v!.converted(to: Double.self)
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
        let eps = Double(V.ulpOfOne)
        XCTAssertLessThan(residual / (max(norm, 1e-300) * Double(n) * eps), 50, "\(label) residual", file: file, line: line)
        XCTAssertLessThan(uOrth / (Double(n) * eps), 50, "\(label) U orthogonality", file: file, line: line)
        XCTAssertLessThan(vOrth / (Double(n) * eps), 50, "\(label) V orthogonality", file: file, line: line)
        for p in 1..<max(1, n) { XCTAssertGreaterThanOrEqual(full.sigma[p - 1], full.sigma[p], label, file: file, line: line) }
        // Without U: no U, and σ and V bit for bit those of the run with U.
        let right = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: true, left: false, threads: 2, precision: V.self)
        XCTAssertNil(right.u, label, file: file, line: line)
        XCTAssertEqual(right.sigma, full.sigma, "\(label) σ without U", file: file, line: line)
        XCTAssertTrue(right.v!.elements == full.v!.elements, "\(label) V without U", file: file, line: line)
        for p in 0..<n {
            XCTAssertEqual(values[p], full.sigma[p], accuracy: 4 * Double(n) * eps * max(norm, 1e-300),
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

    /// A leaf met in the SVD of a 300×120 matrix of five repeated columns (Double): all entries
    /// far below 1, so that their squares underflow. Unscaled, the leaf's one-sided Jacobi never
    /// saw its rows as orthogonal and gave up after 60 sweeps.
    func testEntriesWhoseSquaresUnderflow() throws {
        let d = [-2.945260002282358e-146, -5.802094831296209e-146, -2.3702929639301156e-146, 4.935208965333242e-158,
                 -3.976089033772282e-161, 4.196142477621078e-162, 2.0058486734545714e-162, 2.951321602653399e-163,
                 -1.5571883769403963e-173, 8.716550620668536e-176, -2.353281200866388e-175, -3.1481130383585324e-177,
                 1.2931220167938342e-179, -4.4778694877107326e-191]
        let e = [-7.169328970618148e-146, 8.028282172175307e-146, 3.3554905876603716e-147, -4.476560163596011e-158,
                 5.462907669569361e-161, 6.628984773343612e-162, -1.0189562391020932e-161, 3.6943960200918876e-163,
                 -3.1823758541609226e-173, 2.4647553848138368e-175, 2.2871759520326078e-175, -2.5215660275723763e-177,
                 6.4434491906952776e-180]
        try check(d: d, e: e, label: "near underflow, n=14")
        var generator = SeededGenerator(seed: 23)
        for n in [5, 24, 60] {
            let d = (0..<n).map { i in Double.random(in: -1...1, using: &generator) * pow(10, -150 - 3 * Double(i)) }
            let e = (0..<(n - 1)).map { i in Double.random(in: -1...1, using: &generator) * pow(10, -150 - 3 * Double(i)) }
            try check(d: d, e: e, label: "graded near underflow, n=\(n)")
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

    /// The O(n) Sturm counts agree with the computed σ wherever the bound is not within rounding
    /// of a σᵢ (midpoints of separated neighbours), and the bisection's interval holds σ₁.
    func testSpectrumCountsAndLargestValue() throws {
        var generator = SeededGenerator(seed: 24)
        var cases: [(String, [Double], [Double])] = []
        for n in [1, 2, 7, 24, 60, 200] {
            cases.append(("random \(n)", (0..<n).map { _ in Double.random(in: -1...1, using: &generator) },
                          (0..<max(0, n - 1)).map { _ in Double.random(in: -1...1, using: &generator) }))
            let graded = (0..<n).map { pow(0.7, Double($0)) }
            cases.append(("graded \(n)", graded, graded.dropLast().map { $0 * 0.5 }))
            cases.append(("zeros \(n)", (0..<n).map { $0 % 3 == 1 ? 0 : 1 }, (0..<max(0, n - 1)).map { $0 % 4 == 0 ? 0 : 0.5 }))
        }
        for (label, d, e) in cases {
            let sigma = try BidiagonalDivideAndConquer.svd(d: d, e: e, vectors: false, threads: 1, precision: Double.self).sigma
            let spectrum = BidiagonalSpectrum(diagonal: d, superdiagonal: e)
            let n = d.count, slack = 100 * Double(n) * Double.ulpOfOne * sigma[0]
            XCTAssertLessThanOrEqual(spectrum.largest.lowerBound, sigma[0] + slack, label)
            XCTAssertGreaterThanOrEqual(spectrum.largest.upperBound, sigma[0] - slack, label)
            XCTAssertLessThanOrEqual(spectrum.largest.upperBound - spectrum.largest.lowerBound, 1e-3 * spectrum.largest.upperBound, label)
            var checked = 0
            for i in 0..<(n - 1) where sigma[i] - sigma[i + 1] > 1e-6 * sigma[0] {
                XCTAssertEqual(spectrum.count(below: (sigma[i] + sigma[i + 1]) / 2), n - 1 - i, "\(label) between σ\(i) and σ\(i + 1)")
                checked += 1
            }
            XCTAssertEqual(spectrum.count(below: 2 * sigma[0] + 1), n, label)
            if n > 2 && !label.hasPrefix("zeros") { XCTAssertGreaterThan(checked, 0, label) }
        }
    }

    /// The weak-direction test on a diagonal with σ = 1, 0.5, 0.005 (0.005 < 1/128): weak among all
    /// three and kept at threshold 0.002; not among the leading two; not kept at threshold 0.01.
    /// With 0.01 (> 1/128) instead, nothing is weak.
    func testWeakDirectionsFromTheSpectrum() {
        let spectrum = BidiagonalSpectrum(diagonal: [0.5, -1, 0.005], superdiagonal: [0, 0])
        XCTAssertEqual(spectrum.valueCount, 3)
        XCTAssertTrue(DirectLeftVectors.mayHaveWeakDirections(spectrum, among: 3, relativeThreshold: 0))
        XCTAssertTrue(DirectLeftVectors.mayHaveWeakDirections(spectrum, among: 3, relativeThreshold: 0.002))
        XCTAssertFalse(DirectLeftVectors.mayHaveWeakDirections(spectrum, among: 2, relativeThreshold: 0))
        XCTAssertFalse(DirectLeftVectors.mayHaveWeakDirections(spectrum, among: 3, relativeThreshold: 0.01))
        let strong = BidiagonalSpectrum(diagonal: [0.5, -1, 0.01], superdiagonal: [0, 0])
        XCTAssertFalse(DirectLeftVectors.mayHaveWeakDirections(strong, among: 3, relativeThreshold: 0))
    }

    /// With left vectors declined up front, asking for them anyway gives what the SVD with U_B
    /// gives, bit for bit (divide and conquer is rerun with U_B); σ and Vᵀ are the same too.
    func testLeftVectorsDeclinedThenAskedFor() throws {
        var generator = SeededGenerator(seed: 25)
        for (m, n) in [(200, 60), (60, 60)] {
            let a = Matrix<Double>.random(rows: m, columns: n, using: &generator).converted(to: Float.self)
            let kept = try BidiagonalPathSVD(a, leading: n, threads: 1)
            let declined = try BidiagonalPathSVD(a, leading: n, threads: 1) { _ in false }
            XCTAssertEqual(kept.sigma, declined.sigma)
            XCTAssertTrue(kept.vt.elements == declined.vt.elements)
            for columns in [0..<n, 3..<9] {
                XCTAssertTrue(try kept.leftVectors(columns, threads: 1).elements == declined.leftVectors(columns, threads: 1).elements,
                              "\(m)×\(n) columns \(columns)")
            }
        }
    }
}
