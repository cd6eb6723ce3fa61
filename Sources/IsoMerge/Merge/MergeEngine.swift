import Linalg

/// The streaming merge, composed of a plan, a source and a sink: `MergePlan` validates every
/// input, `TaskVectorSource` reads each tensor's task vectors τ_t = θ_t − θ₀ in the working
/// precision, the rule merges them into τ_M, and `OutputSink` writes θ₀ + α·τ_M (or τ_M itself)
/// in the output dtype — one tensor (or one batch of small tensors) in memory at a time.
///
/// Small tensors are merged side by side on all cores; large matrices one at a time, with the
/// cores inside GEMM and SVD (`TensorPass`). Results do not depend on the thread count.
public final class MergeEngine: @unchecked Sendable {
    public let plan: MergePlan
    public let options: MergeOptions
    /// Called after each tensor (from the calling thread).
    public var progress: ((MergeProgress) -> Void)?

    public var base: Checkpoint { plan.base }
    public var models: [Checkpoint] { plan.models }

    /// Opens nothing new: checks that the checkpoints agree and the options make sense, reporting
    /// every problem at once.
    public init(base: Checkpoint, models: [Checkpoint], options: MergeOptions) throws(MergeError) {
        plan = try MergePlan(base: base, models: models, options: options)
        self.options = options
    }

    /// Merges and writes θ₀ + α·τ_M to `destination` (a .safetensors path, or a directory).
    public func merge(to destination: String, metadata: [String: String] = [:], maximumShardBytes: Int? = nil,
                      overwrite: Bool = false) throws -> MergeReport {
        let writer = try CheckpointWriter(destination: destination, tensors: plan.checkpointSpecs(dtype: options.outputDType),
                                          metadata: metadata, maximumShardBytes: maximumShardBytes, overwrite: overwrite,
                                          inputs: [base] + models)
        return try stream(into: OutputSink(writer, content: .checkpoint(alpha: options.effectiveAlpha), copyingFrom: base))
    }

    /// Writes τ_M itself (F32, or F64 in double precision) for float tensors, to be applied later
    /// with any α by `TaskVectorApplication` without redoing any SVD.
    public func writeTaskVector(to destination: String, metadata: [String: String] = [:], overwrite: Bool = false) throws -> MergeReport {
        var meta = metadata
        meta[MergePlan.contentKey] = MergePlan.taskVectorContent
        let writer = try CheckpointWriter(destination: destination, tensors: plan.taskVectorSpecs,
                                          metadata: meta, overwrite: overwrite, inputs: [base] + models)
        return try stream(into: OutputSink(writer, content: .taskVector, copyingFrom: base))
    }

    /// A source of this plan's task vectors in the working precision `T`, passes run with the
    /// engine's threads and progress.
    func source<T: LinalgScalar>(_: T.Type, pass: TensorPass) -> TaskVectorSource<T> {
        TaskVectorSource(plan: plan, pass: pass)
    }

    func stream(into sink: OutputSink) throws -> MergeReport {
        let pass = TensorPass(threads: options.threads, progress: progress)
        do {
            switch plan.precision {
            case .float32: return try stream(Float.self, rule: options.rule, pass: pass, into: sink)
            case .float64: return try stream(Double.self, rule: options.rule, pass: pass, into: sink)
            }
        } catch {
            sink.writer.abandon()
            throw error
        }
    }

    /// The rule's pre-pass (if any), then every tensor of the sink's output through it.
    private func stream<T: LinalgScalar>(_: T.Type, rule: any MergeRule, pass: TensorPass, into sink: OutputSink) throws -> MergeReport {
        let source = source(T.self, pass: pass)
        let merge: TensorMerger<T> = try rule.prepared(source)
        let tensors = Dictionary(uniqueKeysWithValues: plan.tensors.map { ($0.name, $0) })
        return try sink.fill(pass: pass, phase: "merge") { spec, threads in
            let tensor = tensors[spec.name]!
            guard tensor.merged else { return (nil, nil) }
            let base = try source.baseValues(of: tensor.name)
            let taskVectors = try source.taskVectors(of: tensor.name, base: base)
            if taskVectors.allSatisfy({ tau in tau.allSatisfy { $0 == 0 } }) { return (base, nil) }
            return (base, TaskVectorValues(try merge(taskVectors, tensor, threads)))
        }
    }
}
