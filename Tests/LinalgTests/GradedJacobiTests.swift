@testable import Linalg
import TestSupport
import XCTest

/// The Jacobi SVD's reason to exist: on graded matrices A = D₁·B·D₂ (D₁, D₂ diagonal over many
/// decades, B well conditioned) every singular value, the smallest included, to high relative
/// accuracy. Float results against the Double Jacobi SVD of the same Float matrix (whose own
/// relative error, ~n·10⁻¹⁶·κ(B), is negligible here), each σᵢ within n·ε·κ(B) relatively
/// (constant 1; ε = 2⁻²³). A bidiagonal SVD, or a Jacobi without row sorting, column pivoting and
/// a relative convergence test, misses the small values by 10⁻³ to over 100 %.
final class GradedJacobiTests: XCTestCase {
    enum Side: CaseIterable { case rows, columns, both }

    /// 10^(−decades·t) for t evenly spaced in [0, 1], decreasing, or shuffled.
    func grading(_ count: Int, decades: Double, shuffled: Bool, _ generator: inout SeededGenerator) -> [Double] {
        let values = (0..<count).map { pow(10, -decades * Double($0) / Double(max(1, count - 1))) }
        return shuffled ? values.shuffled(using: &generator) : values
    }

    func testEverySingularValueOfGradedMatricesToRelativeAccuracy() throws {
        var generator = SeededGenerator(seed: 22)
        for (m, n) in [(120, 120), (150, 60), (60, 150)] {
            for side in Side.allCases {
                for shuffled in [false, true] {
                    for decades in [4.0, 8.0] {
                        let b = Matrix<Double>.random(rows: m, columns: n, using: &generator)
                        let bValues = try SVD<Double>.singularValues(of: b, algorithm: .bidiagonal)
                        let condition = bValues.first! / bValues.last!
                        let rows = side == .columns ? [Double](repeating: 1, count: m) : grading(m, decades: decades, shuffled: shuffled, &generator)
                        let columns = side == .rows ? [Double](repeating: 1, count: n) : grading(n, decades: decades, shuffled: shuffled, &generator)
                        let a = Matrix<Float>(rows: m, columns: n) { i, j in Float(rows[i] * b[i, j] * columns[j]) }
                        let reference = try SVD<Double>.singularValues(of: a.converted(to: Double.self), algorithm: .jacobi)
                        let sigma = try SVD(a, algorithm: .jacobi, threads: 2).singularValues
                        let valuesOnly = try SVD<Float>.singularValues(of: a, algorithm: .jacobi, threads: 2)
                        let bound = Double(max(m, n)) * Double(Float.ulpOfOne) * condition
                        let label = "\(m)×\(n) \(side) \(shuffled ? "shuffled" : "sorted") \(decades) decades, κ(B) \(Int(condition))"
                        for i in 0..<min(m, n) {
                            XCTAssertLessThanOrEqual(abs(Double(sigma[i]) - reference[i]) / reference[i], bound, "\(label): σ[\(i)]")
                            XCTAssertLessThanOrEqual(abs(Double(valuesOnly[i]) - reference[i]) / reference[i], bound, "\(label): values only σ[\(i)]")
                        }
                    }
                }
            }
        }
    }
}
