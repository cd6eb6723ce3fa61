import Linalg

/// Iso-CTS, isotropic merging in common and task-specific subspaces (docs/ALGORITHMS.md).
///
/// The top k directions of M = Σ_t τ_t form the common subspace; each task then contributes its
/// top s directions outside it (SVD of τ̄_t = τ_t − U_c·U_cᵀ·τ_t). All r = k + s·T directions are
/// orthogonalized and given one common singular value: τ_M = σ̄·polar(U*)·polar(V*)ᵀ with σ̄ the
/// mean of all kept singular values over r. Sizes: k₀ = ⌊r·f⌋, s = round_half_even((r − k₀)/T),
/// k = r − s·T (s = ⌊r/T⌋ if that made k negative). Rank rule for M relative to σ₁(M), for τ̄_t
/// relative to σ₁(τ_t); only live directions enter U* and V*.
///
/// The projection off U_c is where Float loses the rank decision: the computed U_c is off the
/// exact common subspace by an angle up to ‖ΔM‖/σ_c (ΔM the SVD's backward error, σ_c the
/// smallest live common value), so a τ_t that lies wholly inside it leaves a residual of that
/// angle times σ₁(τ_t), made from nothing. The rank rule for τ̄_t carries that amplification,
/// 1 + σ₁(M)/σ_c (`RankRule`).
///
/// Cost: one full SVD of M, then per task σ₁(τ_t) and the top s triplets of τ̄_t. When m ≤ n, M's
/// U is a basis of all of ℝᵐ, so τ̄_t = U_⊥·(U_⊥ᵀ·τ_t) with U_⊥ the columns after the live common
/// ones: the SVD of the small (m − k) × n matrix U_⊥ᵀ·τ_t gives τ̄_t's (Ū = U_⊥·W, same σ and V)
/// — an exact identity, and a fifth of the work at f = 0.8. Tall matrices take the leading-vector
/// SVD of τ̄_t itself. Factored (`FactoredMatrixRule`): the same steps on the cores, whose square
/// p × p SVD of M always gives the complement.
public struct IsoCTS: MatrixMergeRule, FactoredMatrixRule {
    public static let name = "iso_cts"
    public static let summary = "isotropic merge in common and task-specific subspaces (the paper's Iso-CTS)"
    /// The paper's ViT-B/32 optimum.
    public static let defaultAlpha = 1.5
    public static let alphaGrid = tenthsAlphaGrid
    public static let commonFraction = MergeParameter(
        name: "common-fraction", kind: .number(.closed(0, 1)), defaultValue: .number(0.8),
        meaning: "the share of the rank for the common subspace", example: "0.8")
    public static let parameters = [commonFraction, excludeParameter]

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }
    public init(commonFraction: Double = 0.8, exclude: [String] = defaultExcludedSubstrings) throws(MergeError) {
        try self.init(given: ["common-fraction": .number(commonFraction), "exclude": .strings(exclude)])
    }

    /// f, the share of the rank given to the common subspace.
    public var fraction: Double { parameters[number: Self.commonFraction] }

    /// One full SVD of M, T smaller truncated SVDs and two polar SVDs (cost estimate for split
    /// merges, `TensorCost`).
    public func matrixSVDs(tasks: Int) -> Int { tasks + 3 }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws -> Matrix<T> {
        try mergeDense(taskVectors, threads: threads)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], ranks: [Int], rows m: Int, columns n: Int,
                                            threads: Int?) throws -> Matrix<T> {
        try Self.merge(cores, ranks: ranks, rows: m, columns: n, fraction: fraction, threads: threads)
    }

    /// (k, s) for rank r, T tasks and common fraction f.
    static func sizes(rank r: Int, tasks: Int, fraction: Double) -> (common: Int, perTask: Int) {
        let k0 = Int((Double(r) * fraction).rounded(.down))
        var s = Int((Double(r - k0) / Double(tasks)).rounded(.toNearestOrEven))
        var k = r - s * tasks
        if k < 0 {
            s = r / tasks
            k = r - s * tasks
        }
        return (k, s)
    }

    /// τ_M's core from the task cores (p × q, rank(C_t) ≤ ranks[t]) of an m × n matrix; the task
    /// vectors themselves when p = m and q = n.
    static func merge<T: LinalgScalar>(_ taskVectors: [Matrix<T>], ranks: [Int], rows m: Int, columns n: Int, fraction: Double,
                                       threads: Int?) throws -> Matrix<T> {
        let (p, q) = (taskVectors[0].rows, taskVectors[0].columns)
        let r = min(m, n)
        if min(p, q) == 0 { return Matrix(rows: p, columns: q) }
        let (k, s) = sizes(rank: r, tasks: taskVectors.count, fraction: fraction)
        let total = Matrix(rows: p, columns: q, elements: VectorRules.sum(taskVectors.map(\.elements)))
        let svd = try SVD(total, threads: threads)
        let largest = svd.singularValues[0]
        // The live common directions: the rank rule decides the first k values only.
        let common = try RankRule(rows: m, columns: n, reference: largest)
            .liveDirections(svd.singularValues.prefix(k), next: k < svd.singularValues.count ? svd.singularValues[k] : 0,
                            weights: .equal(directions: r))
        let uc = svd.u.selecting(columns: Array(0..<common.count))
        let amplification = 1 + (common.count > 0 ? largest / svd.singularValues[common.count - 1] : 0)
        // For p ≤ q: U_⊥, the columns of M's U after the live common ones.
        let complement = p <= q ? svd.u.selecting(columns: Array(common.count..<p)) : nil
        var triplets = StackedTriplets<T>(rows: p, columns: q)
        for (tau, taskRank) in zip(taskVectors, ranks) {
            // rank(τ̄) ≤ rank(τ), and ≤ the complement's dimension: past that bound τ̄'s singular
            // values are exact zeros, and the cut there is exact.
            let bound = min(taskRank, complement?.columns ?? taskRank)
            let wanted = min(s, bound)
            guard wanted > 0 else { continue }
            // Only τ̄'s top triplets are needed, and σ₁ of τ for the rank rule.
            let reference = try largestSingularValue(of: tau, threads: threads)
            let top: TruncatedSVD<T>, topU: Matrix<T>
            if let complement {
                top = try TruncatedSVD(product(complement, tau, transposeA: true, threads: threads), rank: wanted, threads: threads)
                topU = product(complement, top.u, threads: threads)
            } else {
                // τ̄ = τ − U_c·(U_cᵀ·τ)
                let coefficients = product(uc, tau, transposeA: true, threads: threads)
                top = try TruncatedSVD(removing(uc, times: coefficients, from: tau, threads: threads), rank: wanted, threads: threads)
                topU = top.u
            }
            let rule = RankRule(rows: m, columns: n, reference: reference, amplification: amplification)
            let live = try rule.liveDirections(top.singularValues, next: bound < s ? 0 : top.nextSingularValue,
                                               weights: .equal(directions: r), amplification: amplification)
            triplets.append(u: topU.selecting(columns: Array(0..<live.count)), sigma: Array(top.singularValues.prefix(live.count)),
                            vt: top.vt.selecting(rows: Array(0..<live.count)), error: live.error)
        }
        let taskColumns = triplets.count
        let taskError = triplets.vectorError
        triplets.append(u: uc, sigma: Array(svd.singularValues.prefix(common.count)),
                        vt: svd.vt.selecting(rows: Array(0..<common.count)), error: common.error)
        guard triplets.count > 0 else { return Matrix(rows: p, columns: q) }
        let mean = triplets.sigma.reduce(0, +) / T(r)
        let left = try polarOfStackedBasis(tasks: triplets.u.selecting(columns: Array(0..<taskColumns)), common: uc,
                                           inputError: taskError, ruleRows: m, threads: threads)
        let right = try rankAwarePolar(triplets.vt, inputError: triplets.vectorError, ruleColumns: n, threads: threads)
        return product(left, right, alpha: mean, threads: threads)
    }

    /// polar(U*) for U* = [Ū₁ … Ū_T U_c] (U_c: the live common columns, orthonormal). The task blocks
    /// come from τ_t projected off U_c, so in exact arithmetic they are orthogonal to U_c and U*ᵀU* is
    /// block diagonal: polar(U*) = [polar([Ū₁ … Ū_T]), U_c], an m × Σlive SVD instead of m × r. In
    /// floating point the blocks keep components of order ε·‖τ‖/σ̄ along U_c, which the polar factor
    /// of an ill-conditioned [Ū₁ … Ū_T] would amplify; they are projected off once more first.
    /// Should the blocks not be nearly orthogonal to U_c (cross products above 10⁻³: not from a
    /// projection), the full polar is taken. Orthogonal to U_c, the blocks have rank ≤ m − k: more
    /// columns than that (cores of low-rank task vectors, where m is the core's side) leave exact
    /// zeros, not values to decide.
    /// `inputError` is the error of the task blocks' vectors; `ruleRows` the rows of the matrix
    /// whose vectors these are the coordinates of (the rank rule's m).
    static func polarOfStackedBasis<T: LinalgScalar>(tasks: Matrix<T>, common: Matrix<T>, inputError: VectorError, ruleRows: Int,
                                                     threads: Int?) throws -> Matrix<T> {
        let (m, taskColumns, k) = (tasks.rows, tasks.columns, common.columns)
        guard taskColumns > 0 else { return common }
        let cross = product(common, tasks, transposeA: true, threads: threads)
        var stacked = Matrix<T>(rows: m, columns: taskColumns + k)
        guard cross.elements.allSatisfy({ abs($0) <= 1e-3 }) else {
            stacked.place(tasks, row: 0, column: 0)
            stacked.place(common, row: 0, column: taskColumns)
            return try rankAwarePolar(stacked, inputError: inputError, ruleRows: ruleRows, threads: threads)
        }
        let orthogonal = removing(common, times: cross, from: tasks, threads: threads)
        // σ(U*) = σ(task blocks) ∪ {1 for each common column}: the rank rule's reference is the largest.
        let polar = try rankAwarePolar(orthogonal, inputError: inputError, ruleRows: ruleRows, ruleColumns: taskColumns + k,
                                       minimumReference: k > 0 ? 1 : 0, rankBound: m - k, threads: threads)
        stacked.place(polar, row: 0, column: 0)
        stacked.place(common, row: 0, column: taskColumns)
        return stacked
    }

    /// x − basis·coefficients (with coefficients = basisᵀ·x: x projected off the basis' columns).
    static func removing<T: LinalgScalar>(_ basis: Matrix<T>, times coefficients: Matrix<T>, from x: Matrix<T>,
                                          threads: Int?) -> Matrix<T> {
        var result = x
        basis.withView { b in
            coefficients.withView { c in
                result.withMutableView { r in gemm(b, c, into: r, alpha: -1, beta: 1, threads: threads) }
            }
        }
        return result
    }
}
