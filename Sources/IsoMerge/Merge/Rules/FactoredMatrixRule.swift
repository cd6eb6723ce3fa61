import Linalg

/// A rule whose result for a matrix of low-rank task vectors can be computed from their small
/// cores (docs/ALGORITHMS.md, "Low-rank task vectors"): when every task vector of an m × n matrix
/// is τ_t = Q_L·C_t·Q_Rᵀ with one pair of orthonormal bases for all tasks (Q_L m × p, Q_R n × q),
/// its merge is τ_M = Q_L·C_M·Q_Rᵀ with C_M = `mergeCores(C_t, rows: m, columns: n)`, equal to the
/// matrix rule on the τ_t themselves: every SVD-based step is invariant under the bases, and the
/// rank rule, the sizes (r = min(m, n)) and σ̄ are those of the full m × n matrix. Cost: the rule's
/// on p × q instead of m × n.
///
/// Iso-C, Iso-CTS and TSV-M implement their matrix rule once, in this form (the dense rule is the
/// case Q_L = I, Q_R = I); task arithmetic and averaging are linear. TIES is element-wise and is not
/// one: it needs the dense task vectors.
public protocol FactoredMatrixRule: MergeRule {
    /// C_M from the task cores (each p × q, T ≥ 1) of an m × n matrix (m ≥ p, n ≥ q). Throws
    /// `RankUndecidable` when a Float step cannot decide to the promised accuracy.
    func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], rows m: Int, columns n: Int, threads: Int?) throws -> Matrix<T>
}

extension TaskArithmetic: FactoredMatrixRule {
    /// Σ_t C_t: the sum is linear.
    public func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], rows m: Int, columns n: Int, threads: Int?) throws -> Matrix<T> {
        Matrix(rows: cores[0].rows, columns: cores[0].columns, elements: VectorRules.sum(cores.map(\.elements)))
    }
}

extension Average: FactoredMatrixRule {
    /// (1/T)·Σ_t C_t: the mean is linear.
    public func mergeCores<T: LinalgScalar>(_ cores: [Matrix<T>], rows m: Int, columns n: Int, threads: Int?) throws -> Matrix<T> {
        Matrix(rows: cores[0].rows, columns: cores[0].columns, elements: VectorRules.mean(cores.map(\.elements)))
    }
}
