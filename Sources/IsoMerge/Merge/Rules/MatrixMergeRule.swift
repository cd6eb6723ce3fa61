import Linalg

/// A rule whose 2-D tensors take a matrix rule (TSV-M, Iso-C, Iso-CTS): every 2-D tensor does,
/// except those whose name contains one of the `exclude` substrings (by default
/// `text_projection`, which the paper merges element-wise); all other tensors take the mean of
/// the task vectors.
public protocol MatrixMergeRule: MergeRule where ModelStatistics == Void {}

/// The 2-D tensors that take the vector rule unless the user says otherwise: CLIP's text
/// projection, which the paper merges element-wise.
public let defaultExcludedSubstrings = ["text_projection"]

/// The parameter every `MatrixMergeRule` declares.
public let excludeParameter = MergeParameter(
    name: "exclude", kind: .strings, defaultValue: .strings(defaultExcludedSubstrings),
    meaning: "2-D tensors whose name contains one of these substrings take the vector rule")

extension MatrixMergeRule {
    /// The rule with these exclusions and defaults for any other parameter.
    public init(exclude: [String] = defaultExcludedSubstrings) throws(MergeError) {
        try self.init(given: ["exclude": .strings(exclude)])
    }

    /// The substrings that send a 2-D tensor to the vector rule.
    public var excludedSubstrings: [String] { parameters[strings: excludeParameter] }

    /// Exactly two dimensions, both non-zero, and no excluded substring. An empty matrix has no
    /// subspace: it takes the vector rule (which touches nothing), so that a hostile shape such as
    /// [2⁶², 0] costs nothing.
    public func takesMatrixRule(name: String, shape: [Int]) -> Bool {
        shape.count == 2 && !shape.contains(0) && !excludedSubstrings.contains { !$0.isEmpty && name.contains($0) }
    }

    public func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: Void) -> [T] {
        VectorRules.mean(taskVectors)
    }
}
