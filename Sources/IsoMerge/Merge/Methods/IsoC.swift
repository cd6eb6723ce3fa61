import Linalg

/// Iso-C, isotropic merging in the common subspace (docs/ALGORITHMS.md): with
/// M = Σ_t τ_t = U·diag(σ)·Vᵀ, τ_M = σ̄·U·Vᵀ where σ̄ = (1/r)·Σσᵢ over all r = min(m, n) values.
/// The spectrum of the sum is flattened to its mean, so no task's directions are drowned by
/// another's larger singular values. Rank rule relative to σ₁(M). Cost: one SVD and one GEMM.
/// Factored (`FactoredMatrixRule`): M's core is Σ_t C_t, and its SVD is M's in the bases.
public struct IsoC: MatrixMergeRule, FactoredMatrixRule {
    public static let name = "iso_c"
    public static let summary = "isotropic merge in the common subspace (the paper's Iso-C)"
    /// The paper's ViT-B/32 optimum.
    public static let defaultAlpha = 1.3
    public static let alphaGrid = tenthsAlphaGrid
    public static let parameters = [excludeParameter]

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws -> Matrix<T> {
        try mergeDense(taskVectors, threads: threads)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], ranks: [Int], rows m: Int, columns n: Int,
                                            threads: Int?) throws -> Matrix<T> {
        let total = Matrix(rows: cores[0].rows, columns: cores[0].columns, elements: VectorRules.sum(cores.map(\.elements)))
        let r = min(m, n)
        if min(total.rows, total.columns) == 0 { return total }
        let relative = RankRule<T>(rows: m, columns: n, reference: 1).tolerance
        let polarDecomposition = try PolarDecomposition(total, relativeThreshold: relative, threads: threads)
        let sigma = polarDecomposition.singularValues
        let rule = RankRule(rows: m, columns: n, reference: sigma.first ?? 0)
        // σ̄ counts the numerically-zero values as zero.
        let live = try rule.polarLiveCount(sigma, rows: total.rows, columns: total.columns)
        let mean = sigma.prefix(live).reduce(0, +) / T(r)
        var polar = polarDecomposition.factor
        polar.withMutableView { view in
            for i in 0..<view.rows { for j in 0..<view.columns { view[i, j] *= mean } }
        }
        return polar
    }
}
