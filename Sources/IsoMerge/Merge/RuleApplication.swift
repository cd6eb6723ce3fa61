import Linalg

/// A rule ready to merge tensors: its whole-model pre-pass done, its statistics captured.
public typealias TensorMerger<T: LinalgScalar> = @Sendable (_ taskVectors: [[T]], _ tensor: MergePlan.Tensor, _ threads: Int?) throws -> [T]

extension MergeRule {
    /// Runs the pre-pass over `source` (if the rule has one) and returns the per-tensor merge.
    public func prepared<T: LinalgScalar>(_ source: TaskVectorSource<T>) throws -> TensorMerger<T> {
        let statistics = try modelStatistics(source)
        return { taskVectors, tensor, threads in
            try mergeTensor(taskVectors, tensor: tensor, statistics: statistics, source: source, threads: threads)
        }
    }

    /// τ_M of one tensor: the matrix rule for the 2-D tensors the rule takes, the vector rule for
    /// the rest. Errors name the tensor.
    func mergeTensor<T: LinalgScalar>(_ taskVectors: [[T]], tensor: MergePlan.Tensor, statistics: ModelStatistics,
                                      source: TaskVectorSource<T>, threads: Int?) throws -> [T] {
        let (name, shape) = (tensor.name, tensor.entry.shape)
        guard takesMatrixRule(name: name, shape: shape) else { return mergeVectors(taskVectors, statistics: statistics) }
        func matrices<S>(_ vectors: [[S]]) -> [Matrix<S>] { vectors.map { Matrix(rows: shape[0], columns: shape[1], elements: $0) } }
        do {
            return try mergeMatrices(matrices(taskVectors), exact: { matrices(try source.exactTaskVectors(of: name)) },
                                     threads: threads).elements
        } catch {
            throw MergeError("tensor '\(name)': \(error)")
        }
    }

    /// The matrix rule, repeated in Double when a Float step cannot decide a rank or resolve a
    /// live direction to the promised accuracy (`RankRule`, `RankUndecidable`): from `exact`, the
    /// same task vectors before their rounding to T (which moves singular values by up to
    /// √r·ε·σ₁, across the tolerance when they lie at it), rounded back — the answer the float64
    /// engine gives.
    public func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], exact: () throws -> [Matrix<Double>],
                                               threads: Int?) throws -> Matrix<T> {
        do {
            return try mergeMatrices(taskVectors, threads: threads)
        } catch is RankUndecidable {
            return try mergeMatrices(try exact(), threads: threads).converted(to: T.self)
        }
    }
}
