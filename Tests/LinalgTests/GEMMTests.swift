import Dispatch
@testable import Linalg
import TestSupport
import XCTest

/// GEMM against a naive triple loop in Double, with LAPACK-style componentwise error bounds:
/// |Ĉ − C| ≤ 2(k+2)·ε·(|α|·|A||B| + |β|·|C₀|) element by element.
final class GEMMTests: XCTestCase {
    /// One checked product: op(A) is m×k, op(B) is k×n; A, B and C live inside larger buffers so
    /// that leading dimensions exceed widths.
    func check<T: LinalgScalar>(_: T.Type, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                                alpha: T, beta: T, kernel: MicroKernel<T>, threads: Int,
                                generator: inout SeededGenerator, file: StaticString = #filePath, line: UInt = #line) {
        let pad = 3
        // Storage shapes: A is m×k or k×m, padded by `pad` columns; likewise B and C.
        let (aRows, aCols) = transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let aStore = Matrix<T>.random(rows: aRows, columns: aCols + pad, using: &generator)
        let bStore = Matrix<T>.random(rows: bRows, columns: bCols + pad, using: &generator)
        var cStore = Matrix<T>.random(rows: m, columns: n + pad, using: &generator)
        if beta == 0 {
            for i in 0..<m { for j in 0..<n { cStore[i, j] = .nan } }
        }
        let c0 = cStore
        func a(_ i: Int, _ p: Int) -> T { transposeA ? aStore[p, i] : aStore[i, p] }
        func b(_ p: Int, _ j: Int) -> T { transposeB ? bStore[j, p] : bStore[p, j] }

        aStore.withView { aFull in
            bStore.withView { bFull in
                cStore.withMutableView { cFull in
                    var aView = aFull.submatrix(row: 0, column: 0, rows: aRows, columns: aCols)
                    var bView = bFull.submatrix(row: 0, column: 0, rows: bRows, columns: bCols)
                    if transposeA { aView = aView.transposed }
                    if transposeB { bView = bView.transposed }
                    gemm(aView, bView, into: cFull.submatrix(row: 0, column: 0, rows: m, columns: n),
                         alpha: alpha, beta: beta, threads: threads, kernel: kernel)
                }
            }
        }
        let epsilon = Double(T.ulpOfOne)
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<k {
                    exact += Double(a(i, p)) * Double(b(p, j))
                    magnitude += abs(Double(a(i, p)) * Double(b(p, j)))
                }
                let old = beta == 0 ? 0 : Double(c0[i, j])
                exact = Double(alpha) * exact + Double(beta) * old
                let bound = 2 * Double(k + 2) * epsilon * (abs(Double(alpha)) * magnitude + abs(Double(beta) * old))
                    + Double(T.leastNormalMagnitude)
                let error = abs(Double(cStore[i, j]) - exact)
                if !(error <= bound) {
                    XCTFail("\(T.self) \(kernel.name) m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) "
                            + "α=\(alpha) β=\(beta): C[\(i),\(j)] off by \(error) > \(bound)", file: file, line: line)
                    return
                }
            }
            // Padding columns are never written.
            for j in n..<(n + pad) where cStore[i, j] != c0[i, j] {
                XCTFail("padding C[\(i),\(j)] was overwritten", file: file, line: line)
                return
            }
        }
    }

    /// Shapes every kernel must get right: zeros, ones, primes, skinny, and tile-edge sizes.
    static let edgeShapes: [(Int, Int, Int)] = [
        (0, 0, 0), (0, 5, 3), (5, 0, 3), (5, 3, 0), (1, 1, 1), (1, 70, 13), (70, 1, 13), (13, 1, 70),
        (6, 64, 1), (7, 65, 2), (5, 63, 31), (2, 3, 5), (11, 13, 17), (37, 41, 43), (67, 61, 59),
        (12, 128, 64), (1, 1, 257),
    ]

    func testEveryKernelOnEdgeShapesAndTransposes() {
        var generator = SeededGenerator(seed: 1)
        for (m, n, k) in Self.edgeShapes {
            for tA in [false, true] {
                for tB in [false, true] {
                    for kernel in Float.microKernelCandidates {
                        check(Float.self, m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: 1, beta: 0,
                              kernel: kernel, threads: 1, generator: &generator)
                    }
                    for kernel in Double.microKernelCandidates {
                        check(Double.self, m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: -0.5, beta: 2,
                              kernel: kernel, threads: 1, generator: &generator)
                    }
                }
            }
        }
    }

    func testRandomShapesUpTo70WithAlphaBeta() {
        var generator = SeededGenerator(seed: 2)
        let scalars: [(Double, Double)] = [(1, 0), (1, 1), (-2, 0.5), (0.25, 0), (0, 3), (0, 0)]
        for trial in 0..<240 {
            let m = Int.random(in: 0...70, using: &generator)
            let n = Int.random(in: 0...70, using: &generator)
            let k = Int.random(in: 0...70, using: &generator)
            let (alpha, beta) = scalars[trial % scalars.count]
            let (tA, tB) = (trial & 1 == 1, trial & 2 == 2)
            check(Float.self, m: m, n: n, k: k, transposeA: tA, transposeB: tB, alpha: Float(alpha), beta: Float(beta),
                  kernel: Float.microKernel, threads: 1 + trial % 2, generator: &generator)
            check(Double.self, m: m, n: n, k: k, transposeA: tB, transposeB: tA, alpha: alpha, beta: beta,
                  kernel: Double.microKernel, threads: 1 + trial % 2, generator: &generator)
        }
    }

    /// Several k-blocks, several m- and n-blocks, partial tiles everywhere, for every candidate at
    /// its own blocking.
    func testLargerThanOneCacheBlock() {
        var generator = SeededGenerator(seed: 3)
        for kernel in Float.microKernelCandidates {
            let blocking = kernel.blocking
            check(Float.self, m: blocking.mc + 7, n: 2 * kernel.columns + 5, k: blocking.kc + 9,
                  transposeA: false, transposeB: true, alpha: 1.5, beta: -1, kernel: kernel, threads: 2,
                  generator: &generator)
        }
        for kernel in Double.microKernelCandidates {
            let blocking = kernel.blocking
            check(Double.self, m: blocking.mc + 5, n: 2 * kernel.columns + 3, k: blocking.kc + 11,
                  transposeA: true, transposeB: false, alpha: 1, beta: 0, kernel: kernel, threads: 2,
                  generator: &generator)
        }
        check(Double.self, m: 300, n: 290, k: 600, transposeA: true, transposeB: false, alpha: 1, beta: 0,
              kernel: Double.microKernel, threads: 2, generator: &generator)
    }

    /// The same product on 1 and 2 threads is bitwise identical.
    func testThreadCountIndependence() {
        var generator = SeededGenerator(seed: 4)
        for (m, n, k) in [(517, 300, 700), (64, 900, 333), (1000, 7, 800)] {
            let a = Matrix<Float>.random(rows: m, columns: k, using: &generator)
            let b = Matrix<Float>.random(rows: k, columns: n, using: &generator)
            var results: [Matrix<Float>] = []
            for threads in [1, 2, 3] {
                var c = Matrix<Float>(rows: m, columns: n)
                a.withView { a in b.withView { b in c.withMutableView { c in gemm(a, b, into: c, threads: threads) } } }
                results.append(c)
            }
            XCTAssertEqual(results[0], results[1], "\(m)×\(n)×\(k): 1 vs 2 threads")
            XCTAssertEqual(results[0], results[2], "\(m)×\(n)×\(k): 1 vs 3 threads")
        }
    }

    /// Every candidate's blocking holds whole tiles (mc a multiple of mr, nc of nr) and keeps its
    /// B̃ micro-panel within the 96 KiB it is sized for.
    func testEveryCandidateBlockingHoldsWholeTilesWithinItsCacheBudget() {
        func checkBlocking<T: LinalgScalar>(_ kernels: [MicroKernel<T>]) {
            for kernel in kernels {
                let blocking = kernel.blocking
                XCTAssert(blocking.mc > 0 && blocking.mc % kernel.rows == 0, "\(kernel.name): mc = \(blocking.mc)")
                XCTAssert(blocking.nc > 0 && blocking.nc % kernel.columns == 0, "\(kernel.name): nc = \(blocking.nc)")
                XCTAssert(blocking.kc > 0 && blocking.kc * kernel.columns * MemoryLayout<T>.stride <= 96 * 1024,
                          "\(kernel.name): kc = \(blocking.kc)")
            }
        }
        checkBlocking(Float.microKernelCandidates)
        checkBlocking(Double.microKernelCandidates)
    }

    /// The selection keeps the highest measured rate, and the last candidate among equal rates.
    func testSelectionKeepsTheHighestRate() {
        XCTAssertEqual(MicroKernel<Float>.indexOfFastest(rates: [1, 3, 2]), 1)
        XCTAssertEqual(MicroKernel<Float>.indexOfFastest(rates: [2, 1, 2]), 2)
        XCTAssertEqual(MicroKernel<Double>.indexOfFastest(rates: [5]), 0)
    }

    /// GEMMs on several threads at once, each itself on two threads, share the workspace pool;
    /// every one gets the single-threaded product. Under ThreadSanitizer this is also the
    /// contention test of the pool's lock, which must be one the sanitizer sees (`Locked`).
    func testConcurrentCallsShareTheWorkspacePool() {
        var generator = SeededGenerator(seed: 5)
        let a = Matrix<Float>.random(rows: 150, columns: 90, using: &generator)
        let b = Matrix<Float>.random(rows: 90, columns: 70, using: &generator)
        @Sendable func product(threads: Int) -> Matrix<Float> {
            var c = Matrix<Float>(rows: 150, columns: 70)
            a.withView { a in b.withView { b in c.withMutableView { c in gemm(a, b, into: c, threads: threads) } } }
            return c
        }
        let expected = product(threads: 1)
        let results = Locked<[Matrix<Float>]>([])
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let c = product(threads: 2)
            results.withLock { $0.append(c) }
        }
        results.withLock { results in
            XCTAssertEqual(results.count, 12)
            for c in results { XCTAssertEqual(c, expected) }
        }
    }
}
