import Linalg

/// The densified task vectors of an adapter merge as a `TaskVectorStream`, for a rule's
/// whole-model pre-pass (TIES): module by module, τ_t computed from the factors. The model is the
/// base's float tensors when a base is given — every one that no adapter adapts is zero in every
/// task, counted without being visited — and the adapted modules alone otherwise.
struct AdapterTaskVectors<T: LinalgScalar>: TaskVectorStream {
    let adapters: AdapterSet
    let pass: TensorPass
    let implicitZeros: Int

    init(_ adapters: AdapterSet, base: Checkpoint?, pass: TensorPass) {
        self.adapters = adapters
        self.pass = pass
        let adapted = Set(adapters.modules.map(\.tensor))
        implicitZeros = base.map { base in
            base.tensors.filter { $0.entry.dtype.isConvertibleFloat && !adapted.contains($0.entry.name) }
                .reduce(0) { $0 + $1.entry.elementCount }
        } ?? 0
    }

    var taskCount: Int { adapters.adapters.count }
    var entryCount: Int { adapters.modules.reduce(implicitZeros) { $0 + $1.rows * $1.columns } }

    func forEachMergedTensor<Value>(phase: String, _ body: @escaping @Sendable ([[T]]) throws -> Value,
                                    consume: (Value) throws -> Void) throws {
        let modules = adapters.modules
        try pass.run(names: modules.map(\.tensor), sizes: modules.map { $0.rows * $0.columns * taskCount }, phase: phase,
                     job: { [adapters] index, threads in try body(try adapters.denseTaskVectors(of: modules[index], as: T.self, threads: threads)) },
                     consume: { _, value in try consume(value) })
    }
}
