import Linalg

/// TSV-M, task singular vectors merge (docs/ALGORITHMS.md): each task keeps its top s = ⌊r/T⌋
/// singular triplets; they are concatenated into U_cat, σ_cat, V_cat and orthogonalized:
/// τ_M = polar(U_cat)·diag(σ_cat)·polar(V_cat)ᵀ. Rank rule: each task's SVD relative to its own σ₁,
/// each polar factor relative to its own σ₁. Only live triplets enter U_cat and V_cat: the
/// contract's zero padding (and dead directions) add exactly zero singular values to the polar
/// steps, which leave them out anyway, and left in they would be values no rounding-aware rule
/// could tell from noise. Cost: T SVDs with the vectors of the top s values only (`TruncatedSVD`),
/// two polar SVDs of m × Σlive and Σlive × n, GEMMs. Factored (`FactoredMatrixRule`): each
/// task's SVD is its core's in the bases, and so are the polar factors of the stacked vectors.
public struct TSVM: MatrixMergeRule, FactoredMatrixRule {
    public static let name = "tsv_m"
    public static let summary = "task singular vectors merge (TSV-M)"
    public static let defaultAlpha = 1.0
    public static let alphaGrid = tenthsAlphaGrid
    public static let parameters = [excludeParameter]

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }

    /// T truncated SVDs and two polar SVDs (cost estimate for split merges, `TensorCost`).
    public func matrixSVDs(tasks: Int) -> Int { tasks + 2 }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws -> Matrix<T> {
        try mergeDense(taskVectors, threads: threads)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], ranks: [Int], rows m: Int, columns n: Int,
                                            threads: Int?) throws -> Matrix<T> {
        let (p, q) = (cores[0].rows, cores[0].columns)
        let s = min(m, n) / cores.count
        var triplets = StackedTriplets<T>(rows: p, columns: q)
        for (tau, bound) in zip(cores, ranks) where min(s, bound) > 0 {
            // Only the top s triplets are needed, and none past the core's rank, where the cut is
            // exact (the next value is zero); σ₁ among them is the rank rule's reference.
            let top = try TruncatedSVD(tau, rank: min(s, bound), threads: threads)
            let rule = RankRule(rows: m, columns: n, reference: top.singularValues.first ?? 0)
            let live = try rule.liveDirections(top.singularValues, next: bound < s ? 0 : top.nextSingularValue,
                                               weights: .basisColumns(columns: min(m, n)))
            triplets.append(top, live: live.count, error: live.error)
        }
        guard triplets.count > 0 else { return Matrix(rows: p, columns: q) }
        var left = try rankAwarePolar(triplets.u, inputError: triplets.vectorError, ruleRows: m, threads: threads)
        let right = try rankAwarePolar(triplets.vt, inputError: triplets.vectorError, ruleColumns: n, threads: threads)
        left.withMutableView { view in
            for i in 0..<p { for j in 0..<triplets.count { view[i, j] *= triplets.sigma[j] } }
        }
        return product(left, right, threads: threads)
    }
}
