import Linalg

/// Task arithmetic: τ_M = Σ_t τ_t, element-wise, scaled by a small α (0.3 by default, the middle
/// of the 1/30…1 grid where 8-task optima fall). Cost: one pass over the task vectors.
public struct TaskArithmetic: MergeRule {
    public static let name = "task_arithmetic"
    public static let summary = "the sum of the task vectors"
    public static let defaultAlpha = 0.3
    public static let alphaGrid = thirtiethsAlphaGrid
    public static let parameters: [MergeParameter] = []

    public let parameters: MergeParameterValues
    public init(parameters: MergeParameterValues) { self.parameters = parameters }
    public init() { try! self.init(given: [:]) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: Void) -> [T] {
        VectorRules.sum(taskVectors)
    }
}
