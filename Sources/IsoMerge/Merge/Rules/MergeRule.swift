import Linalg

/// A merge method: how the task vectors τ₁…τ_T of each tensor become one merged task vector τ_M
/// (docs/ALGORITHMS.md states each method's contract).
///
/// A rule declares its name, its α (default and search grid) and its hyper-parameters; the engine,
/// the command line, config files, validation and provenance are derived from these declarations.
/// It supplies the arithmetic in up to three parts:
/// - the matrix rule, for the 2-D tensors it takes (`takesMatrixRule`), usually SVD-based;
/// - the vector rule, for every other float tensor (and every tensor when it has no matrix rule);
/// - an optional whole-model pre-pass (`modelStatistics`) over all task vectors before any tensor
///   is merged, whose result the vector rule receives (TIES's global thresholds).
///
/// Adding a method is one file with a type conforming to `MergeRule` and one line in
/// `MergeRules.standard`.
public protocol MergeRule: Sendable {
    /// What the whole-model pre-pass produces; `Void` for rules without one.
    associatedtype ModelStatistics: Sendable = Void

    /// The canonical name: lowercase with underscores (`iso_cts`).
    static var name: String { get }
    /// One line for `--help`.
    static var summary: String { get }
    /// α when the user gives none.
    static var defaultAlpha: Double { get }
    /// The α grid searched when the user asks for a search without one.
    static var alphaGrid: [Double] { get }
    /// Every hyper-parameter, declared once.
    static var parameters: [MergeParameter] { get }

    /// The rule with these (validated) parameter values.
    init(parameters: MergeParameterValues)
    /// The parameter values the rule was made with.
    var parameters: MergeParameterValues { get }

    /// Whether the tensor `name` of this shape takes the matrix rule (default: none does).
    func takesMatrixRule(name: String, shape: [Int]) -> Bool
    /// τ_M of one matrix from its task vectors (each m × n, T ≥ 1). Throws `RankUndecidable` when
    /// a Float step cannot decide to the promised accuracy; the engine then repeats it in Double.
    func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws -> Matrix<T>
    /// τ_M of any tensor from its flattened task vectors (T ≥ 1, equal lengths).
    func mergeVectors<T: LinalgScalar>(_ taskVectors: [[T]], statistics: ModelStatistics) -> [T]
    /// The whole-model pre-pass: reads every merged tensor's task vectors from `source`.
    func modelStatistics<S: TaskVectorStream>(_ source: S) throws -> ModelStatistics
    /// The matrix rule's work on one m × n matrix of T tasks, in full SVDs of an m × n matrix
    /// (default 1): what `TensorCost` weighs tensors by when a merge is split into parts.
    func matrixSVDs(tasks: Int) -> Int
}

extension MergeRule {
    public func takesMatrixRule(name: String, shape: [Int]) -> Bool { false }

    public func matrixSVDs(tasks: Int) -> Int { 1 }

    public func mergeMatrices<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws -> Matrix<T> {
        preconditionFailure("\(Self.name) has no matrix rule")
    }

    /// The rule with `given` parameter values and defaults for the rest, after checking them
    /// against the declarations (all problems at once).
    public init(given: [String: MergeParameterValue]) throws(MergeError) {
        self.init(parameters: try MergeParameterValues(Self.parameters, given: given))
    }

    public var name: String { Self.name }
    public var defaultAlpha: Double { Self.defaultAlpha }

    /// The metadata recording this rule's parameters.
    public var provenance: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.parameters.map { $0.provenance(parameters[$0.name]!) })
    }
}

extension MergeRule where ModelStatistics == Void {
    public func modelStatistics<S: TaskVectorStream>(_ source: S) throws {}
}

/// The α grid of the paper for rules whose useful α lies near 1: 0.1, 0.2, … 3.0.
public let tenthsAlphaGrid = (1...30).map { Double($0) / 10 }
/// The α grid of the paper for task arithmetic and TIES: 1/30, 2/30, … 1.
public let thirtiethsAlphaGrid = (1...30).map { Double($0) / 30 }
