import Linalg

/// The task vectors of a plan, tensor by tensor: τ_t = θ_t − θ₀ subtracted exactly in the inputs'
/// precision and rounded once to T (docs/ALGORITHMS.md), every input checked for NaN and ±∞
/// (an error naming the checkpoint and tensor). Nothing is cached: each call reads the files.
public struct TaskVectorSource<T: LinalgScalar>: Sendable {
    public let plan: MergePlan
    /// How passes over the tensors run (threads, progress).
    public let pass: TensorPass

    public init(plan: MergePlan, pass: TensorPass) {
        self.plan = plan
        self.pass = pass
    }

    /// The tensors that have task vectors.
    public var mergedTensors: [MergePlan.Tensor] { plan.mergedTensors }

    /// θ₀ of tensor `name`, checked finite.
    func baseValues(of name: String) throws -> BaseValues {
        try Self.read(name, from: plan.base)
    }

    /// τ_t of tensor `name` for every task, from `base` (θ₀ of that tensor) when given.
    public func taskVectors(of name: String) throws -> [[T]] {
        try taskVectors(of: name, base: try baseValues(of: name))
    }

    func taskVectors(of name: String, base: BaseValues) throws -> [[T]] {
        try plan.models.map { model in (try Self.read(name, from: model)).subtracting(base) as [T] }
    }

    /// The same task vectors in Double: what a Float step that cannot decide is repeated with.
    func exactTaskVectors(of name: String) throws -> [[Double]] {
        try TaskVectorSource<Double>(plan: plan, pass: pass).taskVectors(of: name)
    }

    /// `body` on every merged tensor's task vectors, side by side; `consume` takes the results in
    /// tensor order on the calling thread, with progress reported as `phase`.
    public func forEachMergedTensor<Value>(phase: String, _ body: @escaping @Sendable ([[T]]) throws -> Value,
                                           consume: (Value) throws -> Void) throws {
        let tensors = mergedTensors
        try pass.run(names: tensors.map(\.name), sizes: tensors.map(\.entry.elementCount), phase: phase,
                     job: { index, _ in try body(try self.taskVectors(of: tensors[index].name)) },
                     consume: { _, value in try consume(value) })
    }

    /// Tensor `name` of `checkpoint`, checked finite.
    private static func read(_ name: String, from checkpoint: Checkpoint) throws -> BaseValues {
        let (file, entry) = checkpoint.tensor(named: name)!
        let values = try BaseValues.read(file, entry)
        try values.checkFinite(file: checkpoint.path, tensor: name)
        return values
    }
}
