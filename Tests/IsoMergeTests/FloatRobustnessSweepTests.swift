import Foundation
@testable import IsoMerge
import Linalg
import TestSupport
import XCTest

/// The Float engine against the Double engine on degenerate and exactly low-rank task vectors: a
/// seeded sweep over shapes (1×n, n×1, tall, wide, square), T = 1…12, exact per-task ranks 1…r,
/// spread scales, all-zero and repeated tasks, F64 and F32 storage, common fractions, and the three
/// SVD-based methods. Every case must agree within 1e-4 relative (Frobenius) on the merged delta.
/// `ISOMERGE_SWEEP_CASES=N` runs N cases instead of the default (for a longer run by hand).
final class FloatRobustnessSweepTests: XCTestCase {
    /// One generated tensor: its task vectors as each engine receives them, and how they were made.
    struct SweepCase: CustomStringConvertible {
        var seed: UInt64
        var rows: Int, columns: Int
        var ranks: [Int]
        var storage: String
        var fraction: Double
        var exact: [Matrix<Double>]
        var description: String {
            "seed \(seed): \(rows)×\(columns), T = \(ranks.count), ranks \(ranks), \(storage), f = \(fraction)"
        }
    }

    static func makeCase(seed: UInt64) -> SweepCase {
        var generator = SeededGenerator(seed: 0x5EED_0000 &+ seed)
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
        func integer(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
        let shapes = [(1, integer(2...40)), (integer(2...40), 1), (integer(20...90), integer(4...30)),
                      (integer(4...30), integer(20...90)), (integer(8...48), integer(8...48)), (integer(1...6), integer(1...6))]
        let (m, n) = shapes[integer(0...(shapes.count - 1))]
        let r = min(m, n)
        let tasks = integer(1...12)
        let fractions = [0.8, 0.5, 0.0, 1.0, uniform()]
        let fraction = fractions[integer(0...(fractions.count - 1))]
        var ranks: [Int] = [], exact: [Matrix<Double>] = []
        for t in 0..<tasks {
            let kind = integer(0...9)
            if t > 0 && kind == 0 {
                // A task equal to an earlier one.
                let copy = integer(0...(t - 1))
                ranks.append(ranks[copy])
                exact.append(exact[copy])
                continue
            }
            let rank = kind == 1 ? 0 : kind <= 4 ? r : integer(1...r)
            // Exactly rank `rank` in Double: a product of Gaussian factors, each factor column scaled
            // so that the spectrum spreads over up to three decades.
            let scale = pow(10, -3 * uniform())
            let left = Matrix<Double>.random(rows: m, columns: rank, using: &generator)
            var right = Matrix<Double>.random(rows: rank, columns: n, using: &generator)
            right.withMutableView { view in
                for i in 0..<rank {
                    let weight = scale * pow(10, -1.5 * uniform())
                    for j in 0..<n { view[i, j] *= weight }
                }
            }
            ranks.append(rank)
            exact.append(rank == 0 ? Matrix(rows: m, columns: n) : product(left, right))
        }
        let storage = integer(0...1) == 0 ? "F64" : "F32"
        if storage == "F32" {
            // θ_t = θ₀ + τ_t stored in F32: the task vector is the exact difference of two Floats.
            let base = Matrix<Double>.random(rows: m, columns: n, using: &generator).elements.map { Double(Float($0 * 0.05)) }
            exact = exact.map { tau in
                Matrix(rows: m, columns: n, elements: zip(tau.elements, base).map { Double(Float($1 + $0)) - $1 })
            }
        }
        return SweepCase(seed: seed, rows: m, columns: n, ranks: ranks, storage: storage, fraction: fraction, exact: exact)
    }

    func testFloatAgreesWithDoubleOnDegenerateInput() throws {
        let count = ProcessInfo.processInfo.environment["ISOMERGE_SWEEP_CASES"].flatMap { Int($0) } ?? 200
        var worst = (error: 0.0, label: "")
        for seed in 0..<UInt64(count) {
            let sweep = Self.makeCase(seed: seed)
            let floats = sweep.exact.map { $0.converted(to: Float.self) }
            let scale = sweep.exact.flatMap(\.elements).map(abs).max() ?? 0
            let rules: [any MergeRule] = [try IsoC(), try IsoCTS(commonFraction: sweep.fraction), try TSVM()]
            for rule in rules {
                let reference = try rule.mergeMatrices(sweep.exact, exact: { sweep.exact }, threads: 1)
                let ours = try rule.mergeMatrices(floats, exact: { sweep.exact }, threads: 1)
                let error = relativeError(ours, to: reference, whenZero: scale)
                if error > worst.error { worst = (error, "\(rule.name) \(sweep)") }
                XCTAssertLessThanOrEqual(error, 1e-4, "\(rule.name) \(sweep)")
            }
        }
        print("Float vs Double sweep over \(count) cases: worst relative error \(worst.error) (\(worst.label))")
    }
}
