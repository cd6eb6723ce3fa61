import Linalg

/// Weight averaging: τ_M = (1/T)·Σ_t τ_t, element-wise. At α = 1 the merge is the plain mean of
/// the checkpoints. Cost: one pass over the task vectors.
public struct Average: MergeRule {
    public static let name = "average"
    public static let summary = "the mean of the checkpoints (α = 1)"
    public static let defaultAlpha = 1.0
    public static let alphaGrid = tenthsAlphaGrid
    public static let parameters: [MergeParameter] = []

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }
    public init() { try! self.init(given: [:]) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: Void) -> [T] {
        VectorRules.mean(taskVectors)
    }
}
