import Linalg

/// Everything that parameterizes a merge besides the checkpoints.
public struct MergeOptions: Sendable {
    /// The method, with its hyper-parameters.
    public var rule: any MergeRule
    /// Global scaling of the merged task vector; nil: the rule's default.
    public var alpha: Double?
    /// The arithmetic of task vectors and merges.
    public var precision: Precision = .float32
    /// The dtype of merged float tensors; nil keeps each base tensor's dtype.
    public var outputDType: DType? = nil
    /// Threads for GEMM/SVD and for merging small tensors side by side; nil: all cores.
    public var threads: Int? = nil

    public init(rule: any MergeRule) { self.rule = rule }

    public var effectiveAlpha: Double { alpha ?? rule.defaultAlpha }
}

/// The precision task vectors are formed and merged in. Inputs are subtracted exactly and
/// outputs rounded once from Double either way (docs/ALGORITHMS.md).
public enum Precision: String, Sendable, CaseIterable {
    case float32
    case float64

}
