/// What a merge reads and writes, checked before any work: the base and fine-tuned checkpoints
/// agree tensor by tensor (names, shapes, dtypes), every float tensor can be merged, and the
/// options make sense. Every problem is reported at once, each naming the file and tensor.
///
/// Float tensors (F64, F32, F16, BF16) are merged; integer and bool tensors are copied from the
/// base. The plan lists the tensors in the base's order.
public struct MergePlan: Sendable {
    /// One tensor of the base: merged, or copied.
    public struct Tensor: Sendable {
        public let name: String
        public let entry: TensorEntry
        public let merged: Bool
    }

    public let base: Checkpoint
    public let models: [Checkpoint]
    public let tensors: [Tensor]
    /// The arithmetic of this merge: the options' precision, or the one its outputs need
    /// (`MergeOptions.workingPrecision(writing:)`: Double when a merged tensor is written as F16 or BF16).
    public let precision: Precision

    /// The metadata key and value that mark a file holding a merged task vector, not a model.
    public static let contentKey = "isomerge.content"
    public static let taskVectorContent = "task_vector"

    public init(base: Checkpoint, models: [Checkpoint], options: MergeOptions) throws(MergeError) {
        var problems: [String] = []
        if models.isEmpty { problems.append("no fine-tuned checkpoints: a merge needs at least one (T ≥ 1)") }
        if let alpha = options.alpha, !alpha.isFinite { problems.append("alpha must be a finite number, not \(alpha)") }
        if let dtype = options.outputDType, !dtype.isConvertibleFloat {
            problems.append("output dtype must be F32, F16, BF16 or F64, not \(dtype.rawValue)")
        }
        for checkpoint in [base] + models where checkpoint.metadataValue(Self.contentKey) == Self.taskVectorContent {
            problems.append("\(checkpoint.path): is a merged task vector (its metadata says \(Self.contentKey) = \(Self.taskVectorContent)), "
                            + "not a model checkpoint; it is applied to a base, not merged")
        }
        let baseNames = Set(base.tensors.map(\.entry.name))
        var tensors: [Tensor] = []
        for (_, entry) in base.tensors {
            if entry.dtype.isConvertibleFloat {
                tensors.append(Tensor(name: entry.name, entry: entry, merged: true))
            } else if entry.dtype.isIntegerOrBool {
                tensors.append(Tensor(name: entry.name, entry: entry, merged: false))
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
        self.base = base
        self.models = models
        self.tensors = tensors
        precision = options.workingPrecision(mergingInto: base)
    }

    /// The merged tensors.
    public var mergedTensors: [Tensor] { tensors.filter(\.merged) }

    /// The output checkpoint's tensors: merged ones in `dtype` (nil: the base's), the rest as in the base.
    public func checkpointSpecs(dtype: DType?) -> [TensorSpec] {
        tensors.map { TensorSpec(name: $0.name, dtype: $0.merged ? (dtype ?? $0.entry.dtype) : $0.entry.dtype, shape: $0.entry.shape) }
    }

    /// A task-vector file's tensors: the merged ones, stored exactly in the working precision.
    public var taskVectorSpecs: [TensorSpec] {
        mergedTensors.map { TensorSpec(name: $0.name, dtype: precision.dtype, shape: $0.entry.shape) }
    }
}
