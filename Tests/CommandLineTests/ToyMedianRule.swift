import IsoMerge
import Linalg

/// A merge method that is not in the library, written as a user would add one: this file and a
/// registry line (`MergeRules.standard.adding(ToyMedianRule.self)`). τ_M is the element-wise
/// median of the task vectors (the mean of the middle two for an even count), shrunk toward zero
/// by a declared parameter.
struct ToyMedianRule: MergeRule {
    static let name = "toy_median"
    static let summary = "element-wise median of the task vectors (a test's toy method)"
    static let defaultAlpha = 0.9
    static let alphaGrid = tenthsAlphaGrid
    static let shrink = MergeParameter(name: "shrink", kind: .number(.closed(0, 1)), defaultValue: .number(0.25),
                                       meaning: "how far the median is pulled toward zero", example: "0.25")
    static let parameters = [shrink]

    let parameters: MergeParameterValues
    init(parameters: MergeParameterValues) { self.parameters = parameters }

    func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: Void) -> [T] {
        let keep = T(1 - parameters[number: Self.shrink])
        return taskVectors[0].indices.map { i in
            let sorted = taskVectors.map { $0[i] }.sorted()
            let middle = sorted.count / 2
            let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            return keep * median
        }
    }
}
