import Linalg

extension MergeMethod {
    /// The matrix rule of an SVD-based method (Iso-C, Iso-CTS, TSV-M) for one tensor's task vectors.
    /// When a Float step cannot decide a rank or resolve a live direction to the promised accuracy
    /// (`RankRule`, `RankUndecidable`), the tensor is merged again in
    /// Double from `exact`, the same task vectors before their rounding to T (which moves singular
    /// values by up to √r·ε·σ₁, across the tolerance when they lie at it), and rounded back: the
    /// answer the float64 engine gives.
    func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], exact: () throws -> [Matrix<Double>],
                                        commonFraction: Double, threads: Int?) throws -> Matrix<T> {
        do {
            return try mergeMatricesOnce(taskVectors, commonFraction: commonFraction, threads: threads)
        } catch is RankUndecidable {
            return try mergeMatricesOnce(try exact(), commonFraction: commonFraction, threads: threads).converted(to: T.self)
        }
    }

    private func mergeMatricesOnce<T: LinalgScalar>(_ taskVectors: [Matrix<T>], commonFraction: Double,
                                                     threads: Int?) throws -> Matrix<T> {
        switch self {
        case .isoC: return try IsoC.merge(taskVectors, threads: threads)
        case .isoCTS: return try IsoCTS.merge(taskVectors, fraction: commonFraction, threads: threads)
        case .tsvM: return try TSVM.merge(taskVectors, threads: threads)
        case .average, .taskArithmetic, .ties: preconditionFailure("\(rawValue) has no matrix rule")
        }
    }
}
