import Dispatch
import Foundation
import Linalg

/// The streaming merge: validate every input, then for each tensor read θ₀ and θ₁…θ_T, form the
/// task vectors τ_t = θ_t − θ₀ (subtracted in the inputs' precision, then converted to the working
/// precision), merge them with the method into τ_M, and write θ₀ + α·τ_M in the output dtype —
/// one tensor (or one batch of small tensors) in memory at a time.
///
/// Data flows one way: files → `Checkpoint` headers → validation → per tensor: read → τ →
/// method → output → writer. The methods see matrices, never files; Linalg is called only by them.
/// Small tensors are merged side by side on all cores; large matrices one at a time, with the
/// cores inside GEMM and SVD. Results do not depend on the thread count.
public final class MergeEngine: @unchecked Sendable {
    public let base: Checkpoint
    public let models: [Checkpoint]
    public let options: MergeOptions
    /// Called after each tensor (from the calling thread).
    public var progress: ((MergeProgress) -> Void)?

    /// Tensors in the base's order; the float ones are merged, the rest copied.
    let plan: [(name: String, entry: TensorEntry, merged: Bool)]

    /// Opens nothing new: checks that the checkpoints agree and the options make sense, reporting
    /// every problem at once.
    public init(base: Checkpoint, models: [Checkpoint], options: MergeOptions) throws(MergeError) {
        self.base = base
        self.models = models
        self.options = options
        var problems: [String] = []
        if models.isEmpty { problems.append("no fine-tuned checkpoints: a merge needs at least one (T ≥ 1)") }
        if let alpha = options.alpha, !alpha.isFinite { problems.append("alpha must be a finite number, not \(alpha)") }
        if !(options.density > 0 && options.density <= 1) {
            problems.append("density must be in (0, 1] (a share of entries, e.g. 0.2), not \(options.density)")
        }
        if !(options.commonFraction >= 0 && options.commonFraction <= 1) {
            problems.append("common fraction must be in [0, 1], not \(options.commonFraction)")
        }
        if let dtype = options.outputDType, !dtype.isConvertibleFloat {
            problems.append("output dtype must be F32, F16, BF16 or F64, not \(dtype.rawValue)")
        }
        for checkpoint in [base] + models where checkpoint.metadataValue(Self.contentKey) == Self.taskVectorContent {
            problems.append("\(checkpoint.path): is a merged task vector (its metadata says \(Self.contentKey) = \(Self.taskVectorContent)), "
                            + "not a model checkpoint; it is applied to a base, not merged")
        }
        let baseNames = Set(base.tensors.map(\.entry.name))
        var plan: [(name: String, entry: TensorEntry, merged: Bool)] = []
        for (_, entry) in base.tensors {
            if entry.dtype.isConvertibleFloat {
                plan.append((entry.name, entry, true))
            } else if entry.dtype.isIntegerOrBool {
                plan.append((entry.name, entry, false))
            } else {
                problems.append("\(base.path): tensor '\(entry.name)': dtype \(entry.dtype.rawValue) cannot be merged (IsoMerge converts F64, F32, F16 and BF16)")
            }
        }
        for model in models {
            for (_, entry) in model.tensors where !baseNames.contains(entry.name) {
                problems.append("\(model.path): tensor '\(entry.name)' is not in the base \(base.path)")
            }
            for (_, entry) in base.tensors {
                guard let (_, other) = model.tensor(named: entry.name) else {
                    problems.append("\(model.path): tensor '\(entry.name)' is missing (the base \(base.path) has it)")
                    continue
                }
                if other.shape != entry.shape {
                    problems.append("\(model.path): tensor '\(entry.name)': shape \(other.shape) differs from the base's \(entry.shape)")
                } else if other.dtype != entry.dtype {
                    problems.append("\(model.path): tensor '\(entry.name)': dtype \(other.dtype.rawValue) differs from the base's \(entry.dtype.rawValue)")
                }
            }
        }
        if !problems.isEmpty { throw MergeError(problems) }
        self.plan = plan
    }

    /// The output tensors: merged float tensors in the requested dtype, the rest as in the base.
    var outputSpecs: [TensorSpec] {
        plan.map { TensorSpec(name: $0.name, dtype: $0.merged ? (options.outputDType ?? $0.entry.dtype) : $0.entry.dtype,
                              shape: $0.entry.shape) }
    }

    /// Merges and writes θ₀ + α·τ_M to `destination` (a .safetensors path, or a directory).
    public func merge(to destination: String, metadata: [String: String] = [:], maximumShardBytes: Int? = nil,
                      overwrite: Bool = false) throws -> MergeReport {
        let alpha = options.effectiveAlpha
        let writer = try CheckpointWriter(destination: destination, tensors: outputSpecs, metadata: metadata,
                                          maximumShardBytes: maximumShardBytes, overwrite: overwrite, inputs: [base] + models)
        return try stream(into: writer, alpha: alpha) { spec, baseValues, merged in
            if let baseValues {
                try OutputAssembly.write(spec, base: baseValues, taskVector: merged, alpha: alpha, to: writer)
            } else {
                try base.rawBytes(of: spec.name).withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
            }
        }
    }

    /// Writes τ_M itself (F32, or F64 in double precision) for float tensors, to be applied later
    /// with any α by `MergeEngine.apply` without redoing any SVD.
    public func writeTaskVector(to destination: String, metadata: [String: String] = [:], overwrite: Bool = false) throws -> MergeReport {
        let dtype: DType = options.doublePrecision ? .f64 : .f32
        let specs = plan.filter(\.merged).map { TensorSpec(name: $0.name, dtype: dtype, shape: $0.entry.shape) }
        var meta = metadata
        meta[Self.contentKey] = Self.taskVectorContent
        let writer = try CheckpointWriter(destination: destination, tensors: specs, metadata: meta, overwrite: overwrite,
                                          inputs: [base] + models)
        return try stream(into: writer, alpha: 1) { spec, _, merged in
            try OutputAssembly.writeTaskVector(spec, merged: merged, to: writer)
        }
    }

    /// The metadata key and value that mark a file written by `writeTaskVector`.
    public static let contentKey = "isomerge.content"
    public static let taskVectorContent = "task_vector"

    /// θ = θ₀ + α·τ for a task vector written by `writeTaskVector` (its metadata must say so: a
    /// full checkpoint given as τ would add the weights twice). A NaN or ±∞ in τ is an error
    /// naming the file and tensor; nothing is written then.
    public static func apply(base: Checkpoint, taskVector: Checkpoint, alpha: Double, to destination: String,
                             outputDType: DType? = nil, metadata: [String: String] = [:], maximumShardBytes: Int? = nil,
                             overwrite: Bool = false, progress: ((MergeProgress) -> Void)? = nil) throws -> MergeReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var problems: [String] = []
        if taskVector.metadataValue(contentKey) != taskVectorContent {
            problems.append("\(taskVector.path): is not a task vector written by merging with a saved task vector (its metadata "
                            + "has no \(contentKey) = \(taskVectorContent)); a full checkpoint applied as one would add the weights twice")
        }
        for (_, entry) in base.tensors where entry.dtype.isConvertibleFloat {
            guard let (_, tau) = taskVector.tensor(named: entry.name) else {
                problems.append("\(taskVector.path): tensor '\(entry.name)' is missing (the base \(base.path) has it)")
                continue
            }
            if tau.shape != entry.shape {
                problems.append("\(taskVector.path): tensor '\(entry.name)': shape \(tau.shape) differs from the base's \(entry.shape)")
            }
        }
        if !problems.isEmpty { throw MergeError(problems) }
        let specs = base.tensors.map { TensorSpec(name: $0.entry.name,
                                                  dtype: $0.entry.dtype.isConvertibleFloat ? (outputDType ?? $0.entry.dtype) : $0.entry.dtype,
                                                  shape: $0.entry.shape) }
        let writer = try CheckpointWriter(destination: destination, tensors: specs, metadata: metadata,
                                          maximumShardBytes: maximumShardBytes, overwrite: overwrite, inputs: [base, taskVector])
        let total = writer.order.reduce(0) { $0 + $1.byteCount }
        var done = 0
        do {
            for (index, spec) in writer.order.enumerated() {
                let (file, entry) = base.tensor(named: spec.name)!
                if entry.dtype.isConvertibleFloat {
                    let baseValues = try BaseValues.read(file, entry)
                    let tau: [Double] = try taskVector.values(of: spec.name, as: Double.self)
                    if let index = firstNonFiniteIndex(tau) {
                        throw MergeError("\(taskVector.path): tensor '\(spec.name)': contains NaN or infinity (first at element \(index))")
                    }
                    try OutputAssembly.write(spec, base: baseValues, taskVector: .double(tau), alpha: alpha, to: writer)
                } else {
                    try file.rawBytes(of: entry).withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
                }
                done += spec.byteCount
                progress?(MergeProgress(index: index + 1, count: writer.order.count, tensor: spec.name, bytesDone: done,
                                        bytesTotal: total, elapsed: seconds(since: start), phase: "apply"))
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return MergeReport(outputPaths: writer.outputPaths, tensors: specs.count, bytesWritten: total,
                           seconds: seconds(since: start), alpha: alpha)
    }

    /// The shared loop: TIES pre-passes if needed, then every tensor in the writer's order through
    /// `emit` (base values, merged τ), with progress; abandons the output on any error.
    private func stream(into writer: CheckpointWriter, alpha: Double,
                        emit: (TensorSpec, BaseValues?, TaskVectorValues?) throws -> Void) throws -> MergeReport {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            if options.doublePrecision {
                try streamTyped(Double.self, writer: writer, start: start, emit: emit)
            } else {
                try streamTyped(Float.self, writer: writer, start: start, emit: emit)
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return MergeReport(outputPaths: writer.outputPaths, tensors: writer.order.count,
                           bytesWritten: writer.order.reduce(0) { $0 + $1.byteCount }, seconds: seconds(since: start), alpha: alpha)
    }

    private func streamTyped<T: LinalgScalar>(_: T.Type, writer: CheckpointWriter, start: UInt64,
                                              emit: (TensorSpec, BaseValues?, TaskVectorValues?) throws -> Void) throws {
        let planByName = Dictionary(uniqueKeysWithValues: plan.map { ($0.name, $0) })
        let ties: TIESModelState<T>? = options.method == .ties && !options.tiesPerTensor
            ? try TIESModelState<T>.prepare(engine: self, start: start) : nil
        let order = writer.order
        let total = order.reduce(0) { $0 + $1.byteCount }
        var done = 0
        // Tensors run side by side, one core each (SVDs spend much of their time in single-threaded
        // matrix–vector products, so two SVDs at once beat one SVD on two cores), while this thread
        // writes finished ones in order; a tensor too large to share the memory budget runs alone
        // on every core.
        let items = order.map { planByName[$0.name]! }
        try sideBySide(sizes: order.map(\.elementCount),
                       job: { index, threads in try self.computeTensor(items[index], as: T.self, ties: ties, threads: threads) },
                       consume: { index, result in
                           let spec = order[index]
                           try emit(spec, result.base, result.merged)
                           done += spec.byteCount
                           progress?(MergeProgress(index: index + 1, count: order.count, tensor: spec.name, bytesDone: done,
                                                   bytesTotal: total, elapsed: seconds(since: start), phase: "merge"))
                       })
    }

    /// Per-tensor jobs on the engine's lanes (one per thread allowed) within its memory budget,
    /// results consumed in index order on the calling thread: `TensorPipeline` with this engine's
    /// settings, shared by the merge pass, TIES's whole-model pre-passes and the alignment analysis.
    func sideBySide<Value>(sizes: [Int], job: @escaping @Sendable (_ index: Int, _ threads: Int?) throws -> Value,
                           consume: (_ index: Int, _ value: Value) throws -> Void) throws {
        try TensorPipeline.run(sizes: sizes, budget: Self.memoryBudget, lanes: options.threads ?? Parallelism.maximumThreads,
                               allThreads: options.threads, job: job, consume: consume)
    }

    /// Elements held at once (started, not yet written): about 2.7 ViT-B/32 MLP matrices
    /// (3072×768), which with their T + 1 inputs and SVD workspace keep peak memory near 0.4 GB
    /// at T = 8 (7 << 20 reached 0.49 GB with Iso-CTS while each thread still had its own malloc
    /// arena, for no measurable speed).
    static let memoryBudget = 6 << 20

    /// One tensor: read, check, τ, merge.
    func computeTensor<T: LinalgScalar>(_ item: (name: String, entry: TensorEntry, merged: Bool), as _: T.Type,
                                        ties: TIESModelState<T>?, threads: Int?) throws -> (base: BaseValues?, merged: TaskVectorValues?) {
        guard item.merged else { return (nil, nil) }
        let (baseFile, baseEntry) = base.tensor(named: item.name)!
        let baseValues = try BaseValues.read(baseFile, baseEntry)
        try baseValues.checkFinite(file: base.path, tensor: item.name)
        let taskVectors: [[T]] = try taskVectors(of: item.name, base: baseValues)
        if taskVectors.allSatisfy({ tau in tau.allSatisfy { $0 == 0 } }) { return (baseValues, nil) }
        let merged = try mergeTaskVectors(taskVectors, name: item.name, shape: item.entry.shape, ties: ties, threads: threads)
        return (baseValues, TaskVectorValues(merged))
    }

    /// τ_t = θ_t − θ₀ for every task, each input checked for NaN/∞.
    func taskVectors<T: LinalgScalar>(of name: String, base baseValues: BaseValues? = nil) throws -> [[T]] {
        let baseValues = try baseValues ?? {
            let (file, entry) = base.tensor(named: name)!
            let values = try BaseValues.read(file, entry)
            try values.checkFinite(file: base.path, tensor: name)
            return values
        }()
        return try models.map { model in
            let (file, entry) = model.tensor(named: name)!
            let values = try BaseValues.read(file, entry)
            try values.checkFinite(file: model.path, tensor: name)
            return (consume values).subtracting(baseValues) as [T]
        }
    }

    /// The method's rule for one tensor's task vectors.
    func mergeTaskVectors<T: LinalgScalar>(_ taskVectors: [[T]], name: String, shape: [Int], ties: TIESModelState<T>?,
                                           threads: Int?) throws -> [T] {
        let method = options.method
        if method == .ties {
            if let ties { return TIES.merge(taskVectors, thresholds: ties.thresholds, majority: ties.majority) }
            return TIES.mergePerTensor(taskVectors, density: options.density)
        }
        if method == .taskArithmetic { return VectorRules.sum(taskVectors) }
        guard method.usesMatrixPath, options.takesMatrixPath(name: name, shape: shape) else {
            return VectorRules.mean(taskVectors)
        }
        let matrices = taskVectors.map { Matrix(rows: shape[0], columns: shape[1], elements: $0) }
        do {
            let exact = { () throws -> [Matrix<Double>] in
                try self.taskVectors(of: name).map { Matrix(rows: shape[0], columns: shape[1], elements: $0) }
            }
            return try method.mergeMatrices(matrices, exact: exact, commonFraction: options.commonFraction, threads: threads).elements
        } catch {
            throw MergeError("tensor '\(name)': \(error)")
        }
    }
}

func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}
