import Linalg

/// Everything that parameterizes a merge besides the checkpoints.
public struct MergeOptions: Sendable {
    /// The method, with its hyper-parameters.
    public var rule: any MergeRule
    /// Global scaling of the merged task vector; nil: the rule's default.
    public var alpha: Double?
    /// The arithmetic of task vectors and merges; nil chooses it from the outputs
    /// (`workingPrecision(writing:)`).
    public var precision: Precision? = nil
    /// The dtype of merged float tensors; nil keeps each base tensor's dtype.
    public var outputDType: DType? = nil
    /// Threads for GEMM/SVD and for merging small tensors side by side; nil: all cores.
    public var threads: Int? = nil

    public init(rule: any MergeRule) { self.rule = rule }

    public var effectiveAlpha: Double { alpha ?? rule.defaultAlpha }

    /// The precision a merge whose merged tensors are written as `dtypes` runs in: `precision` when
    /// given; otherwise Double if any of them is F16 or BF16, Float if not.
    ///
    /// Why 16-bit outputs need Double: a 16-bit output is promised within one ulp of the float64
    /// result correctly rounded, element by element, and where θ₀ and α·τ_M nearly cancel that ulp
    /// is far below Float's resolution of τ_M. An element 10⁻⁶ of |α·τ| in size has a BF16 ulp of
    /// ~4·10⁻⁹·|α·τ|, while even τ_M correctly rounded to Float is off by up to 6·10⁻⁸·|τ|, so no
    /// Float merge can place it; a few elements in every 10⁵ are that close to cancelling. F32 and
    /// F64 outputs are promised the normwise 10⁻⁴ of docs/ALGORITHMS.md, which Float meets.
    public func workingPrecision(writing dtypes: some Sequence<DType>) -> Precision {
        if let precision { return precision }
        return dtypes.contains { $0 == .f16 || $0 == .bf16 } ? .float64 : .float32
    }

    /// The precision of a merged checkpoint of `base` (or of a task vector meant for one): its
    /// float tensors written as `outputDType`, or as their own dtype.
    public func workingPrecision(mergingInto base: Checkpoint) -> Precision {
        workingPrecision(writing: base.tensors.map(\.entry.dtype).filter(\.isConvertibleFloat).map { outputDType ?? $0 })
    }
}

/// The precision task vectors are formed and merged in. Inputs are subtracted exactly and
/// outputs rounded once from Double either way (docs/ALGORITHMS.md).
public enum Precision: String, Sendable, CaseIterable {
    case float32
    case float64

    /// The dtype that stores this precision's values exactly (F32 or F64).
    public var dtype: DType { self == .float64 ? .f64 : .f32 }
}
