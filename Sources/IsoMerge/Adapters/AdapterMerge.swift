import Linalg

/// Merges PEFT LoRA adapters exactly as merging the densified checkpoints θ₀ + τ_t would
/// (docs/ALGORITHMS.md, "Low-rank task vectors"): per adapted module, a `FactoredMatrixRule`
/// (Iso-C, Iso-CTS, TSV-M, task arithmetic, averaging) runs on the (Σr)×(Σr) cores of the stacked
/// factors, O((m + n)·(Σr)²) and never an m × n SVD; any other rule (TIES) gets the dense τ_t of
/// each module, streamed, and its whole-model pre-pass over them (`AdapterTaskVectors`).
///
/// Outputs: a full checkpoint (`merge(to:)`: θ₀ + α·τ_M for adapted modules, the base's other
/// tensors as a checkpoint merge writes a frozen tensor) or a PEFT adapter (`writeAdapter(to:)`,
/// `AdapterWriter`). Both stream one module at a time (`TensorPass`).
public final class AdapterMerge: @unchecked Sendable {
    public let adapters: AdapterSet
    public let base: Checkpoint?
    public let options: MergeOptions
    /// Called after each module or tensor (from the calling thread).
    public var progress: ((MergeProgress) -> Void)?

    /// Checks that the adapters agree with each other and with `base` (when given) and that the
    /// options make sense, reporting every problem at once.
    public init(adapters: [LoRAAdapter], base: Checkpoint?, options: MergeOptions) throws(MergeError) {
        var problems: [String] = []
        if let alpha = options.alpha, !alpha.isFinite { problems.append("alpha must be a finite number, not \(alpha)") }
        if let dtype = options.outputDType, !dtype.isConvertibleFloat {
            problems.append("output dtype must be F32, F16, BF16 or F64, not \(dtype.rawValue)")
        }
        if let base {
            for (_, entry) in base.tensors where !entry.dtype.isConvertibleFloat && !entry.dtype.isIntegerOrBool {
                problems.append("\(base.path): tensor '\(entry.name)': dtype \(entry.dtype.rawValue) cannot be merged (IsoMerge converts F64, F32, F16 and BF16)")
            }
        }
        do {
            self.adapters = try AdapterSet(adapters: adapters, base: base)
        } catch {
            throw MergeError(problems + error.problems)
        }
        if !problems.isEmpty { throw MergeError(problems) }
        self.base = base
        self.options = options
    }

    /// The factored rule for `module`: the method's own for the matrices it takes, the mean
    /// (the vector rule of matrix rules) for those it excludes; nil when the method is element-wise
    /// or has no factored form.
    func factoredRule(for module: AdapterSet.Module) -> (any FactoredMatrixRule)? {
        let rule = options.rule
        if rule.takesMatrixRule(name: module.tensor, shape: [module.rows, module.columns]) { return rule as? any FactoredMatrixRule }
        if rule is any MatrixMergeRule { return Average() }
        return rule as? any FactoredMatrixRule
    }

    /// The per-module dense merge of a rule without a factored form, its pre-pass run over
    /// `stream`: the matrix rule (repeated in Double from exact task vectors when Float cannot
    /// decide) for the matrices it takes, else the vector rule.
    typealias DenseMerger<T: LinalgScalar> = @Sendable (_ module: AdapterSet.Module, _ threads: Int?) throws -> [T]

    private func denseMerger<R: MergeRule, T: LinalgScalar>(_ rule: R, _ stream: AdapterTaskVectors<T>) throws -> DenseMerger<T> {
        let statistics = try rule.modelStatistics(stream)
        let adapters = self.adapters
        return { module, threads in
            let taskVectors = try adapters.denseTaskVectors(of: module, as: T.self, threads: threads)
            guard rule.takesMatrixRule(name: module.tensor, shape: [module.rows, module.columns]) else {
                return rule.mergeVectors(taskVectors, statistics: statistics)
            }
            func matrices<S>(_ vectors: [[S]]) -> [Matrix<S>] { vectors.map { Matrix(rows: module.rows, columns: module.columns, elements: $0) } }
            return try rule.mergeMatrices(matrices(taskVectors), exact: {
                matrices(try adapters.denseTaskVectors(of: module, as: Double.self, threads: threads))
            }, threads: threads).elements
        }
    }

    /// The dense merger when some module needs one (its pre-pass run now), else nil.
    func denseMergerIfNeeded<T: LinalgScalar>(_: T.Type, pass: TensorPass) throws -> DenseMerger<T>? {
        guard adapters.modules.contains(where: { factoredRule(for: $0) == nil }) else { return nil }
        return try denseMerger(options.rule, AdapterTaskVectors<T>(adapters, base: base, pass: pass))
    }

    /// The elements a merge of `module` holds at once, for `TensorPass`'s budget: the stacked factors
    /// and their bases for a factored merge — so that modules of a model run side by side, one
    /// thread each, instead of one at a time with every thread on small matrices — and the T + 1
    /// dense matrices otherwise.
    func workingSize(of module: AdapterSet.Module) -> Int {
        factoredRule(for: module) == nil ? module.rows * module.columns * (adapters.adapters.count + 1)
                                         : 2 * (module.rows + module.columns) * module.totalRank
    }

    /// τ_M of `module` (α not applied): the factored merge as its SVD, or the dense merge.
    enum ModuleResult<T: LinalgScalar> {
        case lowRank(LowRankMatrix<T>)
        case dense(Matrix<T>)
    }

    func merge<T: LinalgScalar>(_ module: AdapterSet.Module, as _: T.Type, dense: DenseMerger<T>?, threads: Int?) throws -> ModuleResult<T> {
        do {
            guard let rule = factoredRule(for: module) else {
                return .dense(Matrix(rows: module.rows, columns: module.columns, elements: try dense!(module, threads)))
            }
            let adapters = self.adapters
            return .lowRank(try adapters.taskVectors(of: module, as: T.self, threads: threads).merged(by: rule, exact: {
                try adapters.taskVectors(of: module, as: Double.self, threads: threads)
            }, threads: threads))
        } catch let error as MergeError {
            throw error
        } catch {
            throw MergeError("module '\(module.name)': \(error)")
        }
    }

    /// Merges and writes the full checkpoint θ₀ + α·τ_M (a .safetensors path, or a directory), with
    /// `CheckpointWriter`'s rules; needs the base.
    public func merge(to destination: String, metadata: [String: String] = [:], maximumShardBytes: Int? = nil,
                      overwrite: Bool = false) throws -> MergeReport {
        let base = try requireBase("a merged checkpoint")
        try checkOutput(OutputTarget(destination))
        let specs = base.tensors.map { _, entry in
            TensorSpec(name: entry.name, dtype: entry.dtype.isConvertibleFloat ? (options.outputDType ?? entry.dtype) : entry.dtype, shape: entry.shape)
        }
        let writer = try CheckpointWriter(destination: destination, tensors: specs, metadata: metadata, maximumShardBytes: maximumShardBytes,
                                          overwrite: overwrite, inputs: [base])
        return try write(into: OutputSink(writer, content: .checkpoint(alpha: options.effectiveAlpha), copyingFrom: base), base: base,
                         precision: checkpointPrecision(base))
    }

    /// Writes τ_M (α not applied) as a task-vector file in the base's layout — every float tensor
    /// of the base, zero where no adapter adapts it — as `MergeEngine.writeTaskVector` does for the
    /// densified checkpoints, so that `MergeEngine.apply` and the α search (`CandidateSearch`) take it.
    public func writeTaskVector(to destination: String, metadata: [String: String] = [:], overwrite: Bool = false) throws -> MergeReport {
        let base = try requireBase("a task vector in the base's layout")
        try checkOutput(OutputTarget(destination))
        var meta = metadata
        meta[MergePlan.contentKey] = MergePlan.taskVectorContent
        let precision = checkpointPrecision(base)
        let specs = base.tensors.filter { $0.entry.dtype.isConvertibleFloat }.map { _, entry in
            TensorSpec(name: entry.name, dtype: precision.dtype, shape: entry.shape)
        }
        let writer = try CheckpointWriter(destination: destination, tensors: specs, metadata: meta, overwrite: overwrite, inputs: [base])
        return try write(into: OutputSink(writer, content: .taskVector, copyingFrom: base), base: base, precision: precision)
    }

    /// The arithmetic of a merged checkpoint of `base` (and of a task vector meant for one): Double
    /// when a merged tensor is written as F16 or BF16 (`MergeOptions.workingPrecision(mergingInto:)`).
    public func checkpointPrecision(_ base: Checkpoint) -> Precision { options.workingPrecision(mergingInto: base) }

    /// The arithmetic of a written adapter: Double when its factors are written as F16 or BF16
    /// (`MergeOptions.workingPrecision(writing:)`; F32 unless an output dtype or Double is asked for).
    public var adapterPrecision: Precision { options.workingPrecision(writing: [options.outputDType ?? .f32]) }

    private func requireBase(_ what: String) throws(MergeError) -> Checkpoint {
        guard let base else { throw MergeError("\(what) needs the base model the adapters were trained on (--base)") }
        return base
    }

    /// Every tensor of `sink`'s writer from the base and the merged modules, in the working precision.
    private func write(into sink: OutputSink, base: Checkpoint, precision: Precision) throws -> MergeReport {
        let writer = sink.writer
        let pass = TensorPass(threads: options.threads, progress: progress)
        do {
            switch precision {
            case .float32: return try fill(sink, Float.self, base: base, pass: pass)
            case .float64: return try fill(sink, Double.self, base: base, pass: pass)
            }
        } catch {
            writer.abandon()
            throw error
        }
    }

    private func fill<T: LinalgScalar>(_ sink: OutputSink, _: T.Type, base: Checkpoint, pass: TensorPass) throws -> MergeReport {
        let dense = try denseMergerIfNeeded(T.self, pass: pass)
        let modules = Dictionary(uniqueKeysWithValues: adapters.modules.map { ($0.tensor, $0) })
        return try sink.fill(pass: pass, phase: "merge") { [self] spec, threads in
            let (file, entry) = base.tensor(named: spec.name)!
            guard entry.dtype.isConvertibleFloat else { return (nil, nil) }
            let values = try BaseValues.read(file, entry)
            try values.checkFinite(file: base.path, tensor: spec.name)
            guard let module = modules[spec.name], !(try adapters.isFrozen(module)) else { return (values, nil) }
            let tau: Matrix<T>
            switch try merge(module, as: T.self, dense: dense, threads: threads) {
            case let .lowRank(result): tau = result.dense(threads: threads)
            case let .dense(result): tau = result
            }
            return (values, TaskVectorValues(tau.elements))
        }
    }

    /// Writes α·τ_M as a PEFT adapter in `directory` (`AdapterWriter`): every module at the rank of
    /// its merge (at most Σr_t), or its best rank-`rank` approximation. A rule without a factored
    /// form (TIES) needs `rank`.
    public func writeAdapter(to directory: String, rank: Int? = nil, metadata: [String: String] = [:],
                             overwrite: Bool = false) throws -> AdapterReport {
        if let rank, rank < 1 { throw MergeError("the adapter rank must be at least 1, not \(rank)") }
        if rank == nil, let module = adapters.modules.first(where: { factoredRule(for: $0) == nil }) {
            throw MergeError("\(options.rule.name) is element-wise: its merged update of '\(module.name)' is not low-rank, so an adapter "
                             + "holds only an approximation of it; give the rank to keep (--adapter-rank R)")
        }
        let target = OutputTarget.adapter(directory: directory)
        try checkOutput(target)
        let writer = try AdapterWriter(target: target, adapters: adapters, rank: rank, options: options, metadata: metadata,
                                       overwrite: overwrite, inputs: base.map { [$0] } ?? [])
        let pass = TensorPass(threads: options.threads, progress: progress)
        switch adapterPrecision {
        case .float32: return try writer.write(self, Float.self, pass: pass)
        case .float64: return try writer.write(self, Double.self, pass: pass)
        }
    }

    /// An output must not be, hold or lie inside an adapter it reads.
    private func checkOutput(_ target: OutputTarget) throws {
        for adapter in adapters.adapters where target.overlaps(OutputTarget.adapter(directory: adapter.path)) {
            throw MergeError("\(target.path): would write over the input adapter \(adapter.path); choose another output")
        }
    }
}
