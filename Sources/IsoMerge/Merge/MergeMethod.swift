/// The merge methods of docs/ALGORITHMS.md, by name.
public enum MergeMethod: String, CaseIterable, Sendable {
    case average
    case taskArithmetic = "task_arithmetic"
    case ties
    case tsvM = "tsv_m"
    case isoC = "iso_c"
    case isoCTS = "iso_cts"

    /// Accepts the canonical names and their dashed spellings (`iso-cts`), case-insensitively.
    public init?(name: String) {
        self.init(rawValue: name.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// α when the user gives none: the value each method is usually run at (docs/ALGORITHMS.md and the
    /// fixtures): the paper's ViT-B/32 optima 1.3 (Iso-C) and 1.5 (Iso-CTS), 1.0 for TSV-M and
    /// TIES, 0.3 for task arithmetic (the middle of its 1/30…1 grid where 8-task optima fall),
    /// and 1.0 for averaging, which then yields the plain mean of the checkpoints.
    public var defaultAlpha: Double {
        switch self {
        case .average, .ties, .tsvM: return 1.0
        case .taskArithmetic: return 0.3
        case .isoC: return 1.3
        case .isoCTS: return 1.5
        }
    }

    /// The α grid the paper searches (docs/ALGORITHMS.md, "Choosing α").
    public var alphaGrid: [Double] {
        switch self {
        case .taskArithmetic, .ties: return (1...30).map { Double($0) / 30 }
        default: return (1...30).map { Double($0) / 10 }
        }
    }

    /// Whether 2-D tensors take a matrix rule (SVD based) rather than the vector rule.
    public var usesMatrixPath: Bool { [.tsvM, .isoC, .isoCTS].contains(self) }
}

/// Everything that parameterizes a merge besides the checkpoints.
public struct MergeOptions: Sendable {
    public var method: MergeMethod
    /// Global scaling of the merged task vector; nil: the method's default.
    public var alpha: Double?
    /// TIES: the share of entries each task keeps (0 < density ≤ 1).
    public var density: Double = 0.2
    /// TIES: trim over the whole model (the paper's and docs/ALGORITHMS.md's rule) or per tensor
    /// (mergekit's variant).
    public var tiesPerTensor = false
    /// Iso-CTS: the share of the rank given to the common subspace (0 ≤ f ≤ 1).
    public var commonFraction: Double = 0.8
    /// 2-D tensors whose name contains one of these take the vector rule.
    public var excludedSubstrings: [String] = ["text_projection"]
    /// Compute task vectors and merges in Double instead of Float.
    public var doublePrecision = false
    /// The dtype of merged float tensors; nil keeps each base tensor's dtype.
    public var outputDType: DType? = nil
    /// Threads for GEMM/SVD and for merging small tensors side by side; nil: all cores.
    public var threads: Int? = nil

    public init(method: MergeMethod) { self.method = method }

    public var effectiveAlpha: Double { alpha ?? method.defaultAlpha }

    /// Whether a tensor takes the matrix path: exactly two dimensions, both non-zero, and no
    /// excluded substring. An empty matrix has no subspace: it is merged element-wise (which
    /// touches nothing), so that a hostile shape such as [2⁶², 0] costs nothing.
    public func takesMatrixPath(name: String, shape: [Int]) -> Bool {
        shape.count == 2 && !shape.contains(0) && !excludedSubstrings.contains { !$0.isEmpty && name.contains($0) }
    }
}
