@testable import Linalg
import TestSupport
import XCTest

/// The SVD to LAPACK's test standards (xGESDD's tests): with ε the working precision,
/// ‖A − UΣVᵀ‖_F/(‖A‖_F·max(m,n)·ε), ‖UᵀU − I‖_F/(m·ε) and ‖VᵀV − I‖_F/(n·ε) all below 50,
/// σ sorted and non-negative, over the LAPACK matrix types, for both algorithms and precisions.
final class SVDTests: XCTestCase {
    enum Kind: CaseIterable {
        case zero, identity, uniform, arithmetic, geometric, clustered, graded, rankDeficient, repeatedColumns, tiny, huge
    }

    /// A random m×n orthonormal-columns matrix (m ≥ n) from the QR of a uniform matrix.
    func orthonormal(_ m: Int, _ n: Int, _ generator: inout SeededGenerator) -> Matrix<Double> {
        QRFactorization(Matrix<Double>.random(rows: m, columns: n, using: &generator)).q
    }

    /// U·diag(σ)·Vᵀ with the given spectrum, in Double.
    func withSpectrum(_ m: Int, _ n: Int, _ sigma: [Double], _ generator: inout SeededGenerator) -> Matrix<Double> {
        let r = min(m, n)
        let u = orthonormal(m, r, &generator), v = orthonormal(n, r, &generator)
        return Matrix(rows: m, columns: n) { i, j in (0..<r).reduce(0.0) { $0 + u[i, $1] * sigma[$1] * v[j, $1] } }
    }

    func matrix<T: LinalgScalar>(_ kind: Kind, _ m: Int, _ n: Int, _: T.Type, _ generator: inout SeededGenerator) -> Matrix<T> {
        let r = min(m, n)
        let conditioning = 1 / Double(T.ulpOfOne)
        let base: Matrix<Double>
        switch kind {
        case .zero: base = Matrix(rows: m, columns: n)
        case .identity: base = Matrix(rows: m, columns: n) { i, j in i == j ? 1 : 0 }
        case .uniform, .tiny, .huge: base = .random(rows: m, columns: n, using: &generator)
        case .arithmetic:
            base = withSpectrum(m, n, (0..<r).map { 1 - Double($0) / Double(max(1, r - 1)) * (1 - 1 / conditioning) }, &generator)
        case .geometric:
            base = withSpectrum(m, n, (0..<r).map { pow(conditioning, -Double($0) / Double(max(1, r - 1))) }, &generator)
        case .clustered:
            base = withSpectrum(m, n, (0..<r).map { $0 == 0 ? 1 : 1 / conditioning }, &generator)
        case .graded:
            let a = Matrix<Double>.random(rows: m, columns: n, using: &generator)
            base = Matrix(rows: m, columns: n) { i, j in a[i, j] * pow(0.5, Double(i)) * pow(0.7, Double(j)) }
        case .rankDeficient:
            let k = r / 2
            base = withSpectrum(m, n, (0..<r).map { $0 < k ? 1 / Double($0 + 1) : 0 }, &generator)
        case .repeatedColumns:
            // Five distinct columns, each repeated exactly: every repeat is cancelled down to
            // roundoff of roundoff, which reaches the subnormal range within a few repeats.
            let distinct = Matrix<Double>.random(rows: m, columns: 5, using: &generator)
            base = Matrix(rows: m, columns: n) { i, j in distinct[i, j % 5] }
        }
        let scale: Double
        switch kind {
        case .tiny: scale = T.self == Float.self ? 1e-37 : 1e-300
        case .huge: scale = T.self == Float.self ? 1e37 : 1e300
        default: scale = 1
        }
        return Matrix(rows: m, columns: n, elements: base.elements.map { T($0 * scale) })
    }

    func check<T: LinalgScalar>(_ a: Matrix<T>, _ algorithm: SVDAlgorithm, _ label: String, threads: Int = 1) throws {
        let svd = try SVD(a, algorithm: algorithm, threads: threads)
        let r = min(a.rows, a.columns)
        XCTAssertEqual(svd.singularValues.count, r, label)
        XCTAssertEqual(svd.u.rows, a.rows, label)
        XCTAssertEqual(svd.vt.columns, a.columns, label)
        for p in 0..<r {
            XCTAssertGreaterThanOrEqual(svd.singularValues[p], 0, label)
            if p > 0 { XCTAssertGreaterThanOrEqual(svd.singularValues[p - 1], svd.singularValues[p], label) }
        }
        let (residual, u, v) = lapackRatios(a, svd)
        XCTAssertLessThan(residual, 50, "\(label): residual")
        XCTAssertLessThan(u, 50, "\(label): UᵀU − I")
        XCTAssertLessThan(v, 50, "\(label): VᵀV − I")
        let valuesOnly = try SVD<T>.singularValues(of: a, algorithm: algorithm, threads: threads)
        let largest = Double(svd.singularValues.first ?? 0)
        for p in 0..<r {
            XCTAssertEqual(Double(valuesOnly[p]), Double(svd.singularValues[p]),
                           accuracy: 8 * Double(max(a.rows, a.columns)) * Double(T.ulpOfOne) * largest, "\(label): values only σ[\(p)]")
        }
    }

    func testSmallSizesAllKindsBothAlgorithmsBothPrecisions() throws {
        var generator = SeededGenerator(seed: 31)
        let sizes = [0, 1, 2, 3, 4, 6, 9, 13, 17, 24, 25, 31, 40]
        for m in sizes {
            for n in sizes {
                for kind in Kind.allCases {
                    for algorithm in [SVDAlgorithm.bidiagonal, .jacobi] {
                        try check(matrix(kind, m, n, Float.self, &generator), algorithm, "Float \(kind) \(m)×\(n) \(algorithm)")
                        try check(matrix(kind, m, n, Double.self, &generator), algorithm, "Double \(kind) \(m)×\(n) \(algorithm)")
                    }
                }
            }
        }
    }

    func testLargerShapes() throws {
        var generator = SeededGenerator(seed: 32)
        for (m, n) in [(300, 120), (120, 300), (200, 200)] {
            for kind in [Kind.uniform, .geometric, .clustered, .graded, .rankDeficient, .repeatedColumns] {
                for algorithm in [SVDAlgorithm.bidiagonal, .jacobi] {
                    try check(matrix(kind, m, n, Float.self, &generator), algorithm, "Float \(kind) \(m)×\(n) \(algorithm)", threads: 2)
                }
            }
            try check(matrix(.uniform, m, n, Double.self, &generator), .bidiagonal, "Double uniform \(m)×\(n)", threads: 2)
            try check(matrix(.repeatedColumns, m, n, Double.self, &generator), .bidiagonal, "Double repeated \(m)×\(n)", threads: 2)
        }
        try check(matrix(.uniform, 768, 768, Float.self, &generator), .auto, "Float uniform 768²", threads: 2)
    }

    /// The bidiagonal path with the two-stage reduction (band, then bulge chase) forced, on every
    /// matrix kind (tiny and huge at unit scale, as `SVD` hands them over), square and tall (the
    /// QR route from m ≥ 11n/6), band widths that divide n and that do not: LAPACK's three ratios
    /// below 50, σ sorted and non-negative, the values-only σ and the one-stage σ equal to it
    /// within 8·m·ε·σ₁. (Wide matrices reach the path as their transpose.)
    func testTwoStagePathAllKinds() throws {
        var generator = SeededGenerator(seed: 34)
        func check<T: LinalgScalar>(_ a: Matrix<T>, bandwidth: Int, _ label: String) throws {
            let largest = a.elements.map { abs($0) }.max() ?? 0
            let scaled = largest > 0 ? UnitScaling.apply(to: a, largest: largest).0 : a
            let (m, n) = (a.rows, a.columns)
            let svd = try BidiagonalPathSVD(scaled, leading: n, threads: 2, stages: .two(bandwidth: bandwidth))
            let u = try svd.leftVectors(0..<n, threads: 2)
            for p in 0..<n {
                XCTAssertGreaterThanOrEqual(svd.sigma[p], 0, label)
                if p > 0 { XCTAssertGreaterThanOrEqual(svd.sigma[p - 1], svd.sigma[p], label) }
            }
            let (residual, uRatio, vRatio) = lapackRatios(scaled, u: u, sigma: svd.sigma, vt: svd.vt)
            XCTAssertLessThan(residual, 50, "\(label): residual")
            XCTAssertLessThan(uRatio, 50, "\(label): UᵀU − I")
            XCTAssertLessThan(vRatio, 50, "\(label): VᵀV − I")
            let valuesOnly = try BidiagonalPathSVD.singularValues(of: scaled, threads: 2, stages: .two(bandwidth: bandwidth))
            let oneStage = try BidiagonalPathSVD.singularValues(of: scaled, threads: 2, stages: .one)
            let tolerance = 8 * Double(m) * Double(T.ulpOfOne) * Double(svd.sigma.first ?? 0)
            for p in 0..<n {
                XCTAssertEqual(Double(valuesOnly[p]), Double(svd.sigma[p]), accuracy: tolerance, "\(label): values only σ[\(p)]")
                XCTAssertEqual(Double(oneStage[p]), Double(svd.sigma[p]), accuracy: tolerance, "\(label): one-stage σ[\(p)]")
            }
        }
        for (m, n, b) in [(40, 40, 8), (37, 37, 5), (45, 30, 6), (90, 40, 7), (33, 33, 32), (3, 2, 4)] {
            for kind in Kind.allCases {
                try check(matrix(kind, m, n, Float.self, &generator), bandwidth: b, "Float \(kind) \(m)×\(n) band \(b)")
            }
        }
        for kind in [Kind.uniform, .graded, .rankDeficient, .repeatedColumns, .tiny, .huge] {
            try check(matrix(kind, 41, 36, Double.self, &generator), bandwidth: 6, "Double \(kind) 41×36 band 6")
        }
    }

    /// The library's own choice at a size where values only go through the band (n ≥ 1024), on a
    /// wide matrix (which reaches the path as its transpose), while the full SVD, with 2n vectors,
    /// keeps the one-stage reduction: the same σ both ways, within 8·max(m, n)·ε·σ₁.
    func testValuesOnlyTakeTheBandFromOrder1024() throws {
        XCTAssertTrue(BidiagonalPathSVD<Float>.reducesInTwoStages(columns: 1030, vectorColumns: 0))
        XCTAssertFalse(BidiagonalPathSVD<Float>.reducesInTwoStages(columns: 1030, vectorColumns: 2 * 1030))
        var generator = SeededGenerator(seed: 35)
        let a = Matrix<Float>.random(rows: 1030, columns: 1100, using: &generator)
        let sigma = try SVD<Float>.singularValues(of: a, algorithm: .bidiagonal, threads: 2)
        let oneStage = try SVD(a, algorithm: .bidiagonal, threads: 2).singularValues
        for p in 0..<1030 {
            XCTAssertEqual(Double(sigma[p]), Double(oneStage[p]), accuracy: 8 * 1100 * Double(Float.ulpOfOne) * Double(oneStage[0]),
                           "σ[\(p)]")
        }
    }

    /// Float singular values against an independent computation in Double (one-sided Jacobi on
    /// the same matrix): the Float values may differ by O(max(m,n)·ε_Float·σ₁).
    func testSingularValuesAgainstDoublePrecision() throws {
        var generator = SeededGenerator(seed: 33)
        for (m, n) in [(50, 30), (30, 50), (97, 97), (260, 64)] {
            let a = Matrix<Float>.random(rows: m, columns: n, using: &generator)
            let reference = try SVD<Double>.singularValues(of: Matrix(rows: m, columns: n, elements: a.elements.map(Double.init)),
                                                           algorithm: .jacobi)
            for algorithm in [SVDAlgorithm.bidiagonal, .jacobi] {
                let sigma = try SVD<Float>.singularValues(of: a, algorithm: algorithm)
                for p in 0..<min(m, n) {
                    XCTAssertEqual(Double(sigma[p]), reference[p], accuracy: 4 * Double(max(m, n)) * Double(Float.ulpOfOne) * reference[0],
                                   "\(m)×\(n) \(algorithm) σ[\(p)]")
                }
            }
        }
    }

    func testNonFiniteInputIsAnError() {
        for bad in [Float.nan, .infinity, -.infinity] {
            var a = Matrix<Float>(rows: 5, columns: 4, repeating: 1)
            a[3, 2] = bad
            for algorithm in SVDAlgorithm.allCases {
                XCTAssertThrowsError(try SVD(a, algorithm: algorithm)) { error in
                    XCTAssertEqual(error as? LinalgError, .nonFiniteInput(row: 3, column: 2))
                }
            }
        }
    }

    func testDeterministicAcrossThreadCounts() throws {
        var generator = SeededGenerator(seed: 34)
        let a = Matrix<Float>.random(rows: 400, columns: 300, using: &generator)
        for algorithm in [SVDAlgorithm.bidiagonal, .jacobi] {
            let one = try SVD(a, algorithm: algorithm, threads: 1)
            let two = try SVD(a, algorithm: algorithm, threads: 2)
            XCTAssertEqual(one.u, two.u, "\(algorithm) U")
            XCTAssertEqual(one.singularValues, two.singularValues, "\(algorithm) σ")
            XCTAssertEqual(one.vt, two.vt, "\(algorithm) Vᵀ")
        }
    }

    /// The QR route for tall and wide matrices gives the SVD route's polar factor.
    func testPolarThroughQRForTallAndWideMatrices() throws {
        var generator = SeededGenerator(seed: 36)
        for (m, n) in [(300, 60), (60, 300)] {
            let a = Matrix<Double>.random(rows: m, columns: n, using: &generator)
            let viaQR = try PolarDecomposition(a, relativeThreshold: 1e-12)
            let viaSVD = try PolarDecomposition(a)
            for i in a.elements.indices { XCTAssertEqual(viaQR.factor.elements[i], viaSVD.factor.elements[i], accuracy: 1e-12) }
            XCTAssertEqual(viaQR.nuclearNorm, viaSVD.nuclearNorm, accuracy: 1e-10)
            XCTAssertEqual(viaQR.rank, min(m, n))
        }
        // Rank 3 inside 200×40: the relative threshold keeps exactly three directions.
        let low = withSpectrum(200, 40, [2, 1, 0.5] + [Double](repeating: 0, count: 37), &generator)
        XCTAssertEqual(try PolarDecomposition(low, relativeThreshold: 1e-9).rank, 3)
    }

    /// The QR route maps the strong directions (σᵢ ≥ σ₁/128) through A and the weak ones through Q.
    /// On a spectrum spanning both (1 … 10⁻⁴: 26 strong, 24 weak), tall and wide, Float and Double,
    /// the factor is a polar factor to roundoff: orthonormal, FᵀA symmetric, and the SVD route's.
    func testPolarThroughQRWithStrongAndWeakDirections() throws {
        var generator = SeededGenerator(seed: 37)
        let spectrum = (0..<50).map { pow(10, -4 * Double($0) / 49) }
        let tall = withSpectrum(240, 50, spectrum, &generator)
        func check<T: LinalgScalar>(_ a: Matrix<T>) throws {
            let (m, n) = (a.rows, a.columns)
            let polar = try PolarDecomposition(a, relativeThreshold: 0)
            XCTAssertEqual(polar.rank, 50)
            let f = m >= n ? polar.factor : polar.factor.transposed, x = m >= n ? a : a.transposed
            let (gram, h) = (product(f, f, transposeA: true), product(f, x, transposeA: true))
            let scale = Double(max(m, n)) * Double(T.ulpOfOne)
            for i in 0..<50 {
                for j in 0..<50 {
                    XCTAssertLessThan(abs(Double(gram[i, j]) - (i == j ? 1 : 0)) / scale, 50, "\(T.self) FᵀF (\(i), \(j))")
                    XCTAssertLessThan(abs(Double(h[i, j] - h[j, i])) / scale, 50, "\(T.self) FᵀA symmetric (\(i), \(j))")
                }
            }
            // polar(A) is unique for full-rank A; its condition is about σ₁/σₙ = 10⁴.
            let viaSVD = try PolarDecomposition(a).factor
            for k in a.elements.indices {
                XCTAssertLessThan(abs(Double(polar.factor.elements[k] - viaSVD.elements[k])) / (1e4 * scale), 50, "\(T.self)")
            }
        }
        for a in [tall, tall.transposed] {
            try check(a)
            try check(a.converted(to: Float.self))
        }
    }

    /// The polar factor does not depend on the scale of A; near underflow and overflow the QR route
    /// (which divides by σᵢ) gives the factor of the unscaled matrix and scales σ and ‖A‖_*.
    func testPolarThroughQRNearUnderflowAndOverflow() throws {
        var generator = SeededGenerator(seed: 38)
        let a = Matrix<Double>.random(rows: 120, columns: 40, using: &generator).converted(to: Float.self)
        let reference = try PolarDecomposition(a, relativeThreshold: 0)
        for scale: Float in [0x1p-140, 0x1p-126, 0x1p100] {
            let scaled = Matrix(rows: 120, columns: 40, elements: a.elements.map { $0 * scale })
            for x in [scaled, scaled.transposed] {
                let polar = try PolarDecomposition(x, relativeThreshold: 0)
                let factor = x.rows == 120 ? polar.factor : polar.factor.transposed
                XCTAssertEqual(polar.rank, 40, "scale \(scale)")
                // Subnormal inputs keep fewer significant bits: compare at their precision.
                let tolerance: Float = scale < 0x1p-126 ? 1e-3 : 1e-5
                for k in factor.elements.indices {
                    XCTAssertEqual(factor.elements[k], reference.factor.elements[k], accuracy: tolerance, "scale \(scale)")
                }
                XCTAssertEqual(polar.nuclearNorm / scale, reference.nuclearNorm, accuracy: reference.nuclearNorm * 1e-3, "scale \(scale)")
            }
        }
    }

    /// LAPACK-style ratios of a polar factor F of `a` that keeps `rank` directions, against
    /// U_k·V_kᵀ from a Double SVD of the same (rounded) matrix: F is a partial isometry when FᵀF
    /// is a projection, ‖(FᵀF)² − FᵀF‖_F/(n·ε) (for full column rank ‖FᵀF − I‖_F/(n·ε) up to
    /// roundoff), and ‖F − U_kV_kᵀ‖_F/(n·ε·κ) with κ = σ₁/σ_k, the polar factor's condition.
    func polarRatios<T: LinalgScalar>(_ a: Matrix<T>, _ factor: Matrix<T>, rank k: Int) throws
        -> (isometry: Double, agreement: Double) {
        let (m, n) = (a.rows, a.columns)
        let tall = m >= n
        let f = (tall ? factor : factor.transposed).converted(to: Double.self)
        let gram = product(f, f, transposeA: true)
        let idempotence = product(gram, gram)
        let isometry = zip(idempotence.elements, gram.elements).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let reference = try SVD(a.converted(to: Double.self), algorithm: .jacobi)
        let sigma = reference.singularValues
        var difference = 0.0
        for i in 0..<m {
            for j in 0..<n {
                let exact = (0..<k).reduce(0.0) { $0 + reference.u[i, $1] * reference.vt[$1, j] }
                let computed = Double(factor[i, j])
                difference += (computed - exact) * (computed - exact)
            }
        }
        let eps = Double(T.ulpOfOne), size = Double(max(m, n))
        return (isometry / (size * eps), difference.squareRoot() / (size * eps * sigma[0] / sigma[k - 1]))
    }

    /// Square matrices take the route of tall ones: A·(V_s Σ_s⁻¹ V_sᵀ) for the strong directions,
    /// the reflectors for the weak ones. Spectra 1 … 10⁻⁴ (32 strong, 28 weak) and 1 … 0.1 (all
    /// strong: divide and conquer skips U_B), A and Aᵀ, Float and Double: the factor is a partial
    /// isometry, and the Double SVD's U·Vᵀ to within its condition.
    func testPolarOfSquareMatrices() throws {
        var generator = SeededGenerator(seed: 39)
        let n = 60
        for smallest in [1e-4, 0.1] {
            let a = withSpectrum(n, n, (0..<n).map { pow(smallest, Double($0) / Double(n - 1)) }, &generator)
            func check<T: LinalgScalar>(_ x: Matrix<T>) throws {
                let polar = try PolarDecomposition(x, relativeThreshold: 0)
                XCTAssertEqual(polar.rank, n)
                let (isometry, agreement) = try polarRatios(x, polar.factor, rank: n)
                let label = "\(T.self), σₙ/σ₁ = \(smallest)"
                XCTAssertLessThan(isometry, 50, "\(label): (FᵀF)² − FᵀF")
                XCTAssertLessThan(agreement, 50, "\(label): F − UVᵀ")
                let gram = product(polar.factor, polar.factor, transposeA: true)
                let identity = (0..<n * n).reduce(0.0) { sum, k in
                    let d = Double(gram.elements[k]) - (k / n == k % n ? 1 : 0)
                    return sum + d * d
                }
                XCTAssertLessThan(identity.squareRoot() / (Double(n) * Double(T.ulpOfOne)), 50, "\(label): FᵀF − I")
            }
            for x in [a, a.transposed] {
                try check(x)
                try check(x.converted(to: Float.self))
            }
        }
    }

    /// A square matrix of rank 20 in 60 (σ 1 … 10⁻³, some of them weak, then zeros): the relative
    /// threshold keeps exactly the 20, and the factor is the partial isometry U₂₀·V₂₀ᵀ.
    func testPolarOfRankDeficientSquareMatrix() throws {
        var generator = SeededGenerator(seed: 40)
        let (n, k) = (60, 20)
        let a = withSpectrum(n, n, (0..<n).map { $0 < k ? pow(1e-3, Double($0) / Double(k - 1)) : 0 }, &generator)
        func check<T: LinalgScalar>(_ x: Matrix<T>) throws {
            let polar = try PolarDecomposition(x, relativeThreshold: 1e-4)
            XCTAssertEqual(polar.rank, k, "\(T.self)")
            let (isometry, agreement) = try polarRatios(x, polar.factor, rank: k)
            XCTAssertLessThan(isometry, 50, "\(T.self): (FᵀF)² − FᵀF")
            XCTAssertLessThan(agreement, 50, "\(T.self): F − U₂₀V₂₀ᵀ")
            let frobeniusSquared = polar.factor.elements.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(frobeniusSquared, Double(k), accuracy: 50 * Double(n) * Double(T.ulpOfOne) * Double(k))
        }
        try check(a)
        try check(a.converted(to: Float.self))
    }

    /// The square route's factor does not depend on the thread count (a uniform matrix, which has
    /// a few weak directions: both halves of the route run).
    func testPolarOfSquareMatrixDeterministicAcrossThreadCounts() throws {
        var generator = SeededGenerator(seed: 41)
        let a = Matrix<Double>.random(rows: 300, columns: 300, using: &generator).converted(to: Float.self)
        let one = try PolarDecomposition(a, relativeThreshold: 0, threads: 1)
        let two = try PolarDecomposition(a, relativeThreshold: 0, threads: 2)
        XCTAssertEqual(one.factor, two.factor)
        XCTAssertEqual(one.singularValues, two.singularValues)
    }

    /// W = V_s Σ_s⁻¹ V_sᵀ by block rows up to the diagonal (n = 300: a full block of 256 and a
    /// partial one): its lower triangle is the full GEMM's bit for bit, and it is exactly symmetric.
    func testInverseWeightedGramIsTheFullProductMirrored() {
        var generator = SeededGenerator(seed: 42)
        let (n, count) = (300, 280)
        let vt = Matrix<Double>.random(rows: n, columns: n, using: &generator).converted(to: Float.self)
        let sigma = (0..<n).map { Float(1) / Float($0 + 1) }
        let w = DirectLeftVectors.inverseWeightedGram(vt, sigma, count: count, threads: 2)
        let full = product(DirectLeftVectors.inverseScaledRows(vt, sigma, count: count), vt.selecting(rows: Array(0..<count)),
                           transposeA: true)
        for i in 0..<n {
            for j in 0...i {
                XCTAssertEqual(w[i, j], full[i, j], "(\(i), \(j))")
                XCTAssertEqual(w[j, i], w[i, j], "(\(j), \(i))")
            }
        }
    }

    func testPolarFactorAndNuclearNorm() throws {
        var generator = SeededGenerator(seed: 35)
        let a = Matrix<Double>.random(rows: 40, columns: 25, using: &generator)
        let polar = try PolarDecomposition(a)
        let svd = try SVD(a)
        XCTAssertEqual(polar.nuclearNorm, svd.singularValues.reduce(0, +), accuracy: 1e-12)
        // The factor has orthonormal columns and AᵀW = V Σ Vᵀ is symmetric positive definite.
        for i in 0..<25 {
            for j in 0..<25 {
                var dot = 0.0, h = 0.0, hT = 0.0
                for p in 0..<40 {
                    dot += polar.factor[p, i] * polar.factor[p, j]
                    h += polar.factor[p, i] * a[p, j]
                    hT += polar.factor[p, j] * a[p, i]
                }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-13)
                XCTAssertEqual(h, hT, accuracy: 1e-13)
            }
        }
        // A threshold drops directions: rank-2 input gives a rank-2 partial isometry.
        let low = withSpectrum(30, 20, [3, 1] + [Double](repeating: 0, count: 18), &generator)
        let partial = try PolarDecomposition(low, threshold: 1e-10)
        XCTAssertEqual(partial.rank, 2)
        let frobeniusSquared = partial.factor.elements.reduce(0) { $0 + $1 * $1 }
        XCTAssertEqual(frobeniusSquared, 2, accuracy: 1e-12)
    }

    /// The block Jacobi's inner two-sided Jacobi: its result stays in Wᵀ·A·W with W orthogonal and
    /// becomes diagonal (the outer iteration would converge even with a wrong inner step, only slower).
    func testInnerTwoSidedJacobiDiagonalizes() {
        var generator = SeededGenerator(seed: 77)
        for p in [2, 3, 17, 64] {
            let b = Matrix<Double>.random(rows: p, columns: p + 5, using: &generator)
            let a0 = product(b, b.transposed)
            let scale = a0.elements.map(abs).max()!
            for sweeps in [1, 12] {
                var a = a0
                let wt = diagonalizingRotations(&a, sweeps: sweeps)
                let similar = product(product(wt, a0), wt.transposed)
                for i in 0..<p {
                    for j in 0..<p {
                        XCTAssertEqual(a[i, j], similar[i, j], accuracy: 1e-13 * Double(p) * scale, "p \(p), sweeps \(sweeps): A ≠ WᵀA₀W at (\(i), \(j))")
                        XCTAssertEqual(a[i, j], a[j, i], "p \(p): result not symmetric")
                    }
                }
                let identity = product(wt, wt.transposed)
                for i in 0..<p { for j in 0..<p { XCTAssertEqual(identity[i, j], i == j ? 1 : 0, accuracy: 1e-13 * Double(p)) } }
                if sweeps == 12 {
                    for i in 0..<p { for j in 0..<p where i != j { XCTAssertLessThanOrEqual(abs(a[i, j]), 1e-13 * scale, "p \(p): not diagonal") } }
                }
            }
        }
    }

    /// The inner step in its one-sided form: on G = B·Bᵀ one sweep gives the two-sided sweep's Wᵀ
    /// (the same rotations in exact arithmetic, so the two agree to rounding times G's condition),
    /// W stays orthogonal, and twelve sweeps leave Wᵀ·G·W diagonal to G's rounding.
    func testCholeskyJacobiIsTheTwoSidedSweepOneSided() throws {
        var generator = SeededGenerator(seed: 78)
        for p in [2, 3, 17, 64] {
            let b = Matrix<Double>.random(rows: p, columns: p + 5, using: &generator)
            let g = product(b, b.transposed)
            let scale = g.elements.map(abs).max()!
            var twoSided = g
            let expected = diagonalizingRotations(&twoSided, sweeps: 1)
            let oneSweep = try XCTUnwrap(choleskyJacobiRotations(g, sweeps: 1), "p \(p): G is positive definite")
            for i in 0..<p {
                for j in 0..<p { XCTAssertEqual(oneSweep[i, j], expected[i, j], accuracy: 1e-9, "p \(p): Wᵀ differs at (\(i), \(j))") }
            }
            let wt = try XCTUnwrap(choleskyJacobiRotations(g, sweeps: 12))
            let identity = product(wt, wt.transposed)
            let similar = product(product(wt, g), wt.transposed)
            for i in 0..<p {
                for j in 0..<p {
                    XCTAssertEqual(identity[i, j], i == j ? 1 : 0, accuracy: 1e-13 * Double(p), "p \(p): W not orthogonal")
                    if i != j { XCTAssertLessThanOrEqual(abs(similar[i, j]), 1e-13 * Double(p) * scale, "p \(p): WᵀGW not diagonal") }
                }
            }
        }
    }

    /// Cholesky of a Gram matrix: L·Lᵀ = G; a zero row of X gives a zero row of L; rows dependent to
    /// working precision break it off (nil), which sends the block Jacobi's pair to the two-sided
    /// sweep — whose result the block Jacobi is checked on here, on rows with such a pair.
    func testCholeskyFactorAndTheTwoSidedFallback() throws {
        var generator = SeededGenerator(seed: 79)
        var x = Matrix<Double>.random(rows: 96, columns: 80, using: &generator)
        for j in 0..<80 { x[5, j] = 0 }
        let top = x.selecting(rows: Array(0..<64))
        let g = product(top, top.transposed)
        let l = try XCTUnwrap(choleskyFactor(g))
        let scale = g.elements.map(abs).max()!
        let llt = product(l, l.transposed)
        for i in 0..<64 {
            XCTAssertEqual(l[5, i], 0, "the zero row's factor row is not zero")
            for j in 0..<64 { XCTAssertEqual(llt[i, j], g[i, j], accuracy: 1e-14 * 64 * scale) }
        }
        // Row 1 a copy of row 0 up to 10⁻¹⁰: their 2×2 Gram block is singular to Double precision.
        for j in 0..<80 { x[1, j] = x[0, j] * (1 + 1e-10 * Double(j % 3)) }
        let topDependent = x.selecting(rows: Array(0..<64))
        let dependent = product(topDependent, topDependent.transposed)
        XCTAssertNil(choleskyFactor(dependent), "Cholesky did not break off on dependent rows")
        let expected = try SVD<Double>.singularValues(of: x, algorithm: .bidiagonal)
        var rows = x
        try rows.withMutableView { view in
            _ = try orthogonalizeRowsBlocked(view, accumulator: nil, negligible: Double.leastNormalMagnitude / Double.ulpOfOne)
        }
        let norms = (0..<96).map { i in (0..<80).reduce(0.0) { $0 + rows[i, $1] * rows[i, $1] }.squareRoot() }.sorted(by: >)
        for k in 0..<80 { XCTAssertEqual(norms[k], expected[k], accuracy: 1e-13 * expected[0], "σ\(k)") }
        for i in 0..<96 {
            for j in (i + 1)..<96 where norms[i] > 1e-12 && norms[j] > 1e-12 {
                let cosine = (0..<80).reduce(0.0) { $0 + rows[i, $1] * rows[j, $1] }
                XCTAssertLessThanOrEqual(abs(cosine), 1e-13 * norms[0] * norms[0], "rows \(i), \(j) not orthogonal")
            }
        }
    }
}
