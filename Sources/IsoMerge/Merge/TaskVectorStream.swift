import Linalg

/// What a whole-model pre-pass (`MergeRule.modelStatistics`, TIES's thresholds) reads: every
/// merged tensor's task vectors, tensor by tensor. `TaskVectorSource` streams a checkpoint merge's;
/// an adapter merge streams its modules' densified task vectors, and counts the base's other float
/// entries — zero in every task vector — without visiting them.
public protocol TaskVectorStream<Scalar>: Sendable {
    associatedtype Scalar: LinalgScalar
    /// T, the number of task vectors per tensor.
    var taskCount: Int { get }
    /// The entries of one task's whole model, `implicitZeros` included.
    var entryCount: Int { get }
    /// Entries that are zero in every task and that `forEachMergedTensor` does not visit.
    var implicitZeros: Int { get }
    /// `body` on every visited tensor's task vectors, side by side; `consume` takes the results in
    /// tensor order on the calling thread, with progress reported as `phase`.
    func forEachMergedTensor<Value>(phase: String, _ body: @escaping @Sendable ([[Scalar]]) throws -> Value,
                                    consume: (Value) throws -> Void) throws
}

extension TaskVectorSource: TaskVectorStream {
    public var taskCount: Int { plan.models.count }
    public var entryCount: Int { mergedTensors.reduce(0) { $0 + $1.entry.elementCount } }
    public var implicitZeros: Int { 0 }
}
