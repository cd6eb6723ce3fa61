import Linalg

extension MergeEngine {
    /// θ = θ₀ + α·τ for a task vector written by `writeTaskVector` (its metadata must say so: a
    /// full checkpoint given as τ would add the weights twice). Every float tensor of the base
    /// must be in τ with its shape; the rest is copied. A NaN or ±∞ in τ is an error naming the
    /// file and tensor; nothing is written then. Output rules as for a merge (`CheckpointWriter`).
    public static func apply(base: Checkpoint, taskVector: Checkpoint, alpha: Double, to destination: String,
                             outputDType: DType? = nil, metadata: [String: String] = [:], maximumShardBytes: Int? = nil,
                             overwrite: Bool = false, progress: ((MergeProgress) -> Void)? = nil) throws -> MergeReport {
        var problems: [String] = []
        if taskVector.metadataValue(MergePlan.contentKey) != MergePlan.taskVectorContent {
            problems.append("\(taskVector.path): is not a task vector written by merging with a saved task vector (its metadata "
                            + "has no \(MergePlan.contentKey) = \(MergePlan.taskVectorContent)); a full checkpoint applied as one would add the weights twice")
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
        let sink = OutputSink(writer, content: .checkpoint(alpha: alpha), copyingFrom: base)
        return try sink.fill(pass: TensorPass(threads: nil, progress: progress), phase: "apply") { spec, _ in
            let (file, entry) = base.tensor(named: spec.name)!
            guard entry.dtype.isConvertibleFloat else { return (nil, nil) }
            let baseValues = try BaseValues.read(file, entry)
            let tau: [Double] = try taskVector.values(of: spec.name, as: Double.self)
            if let index = firstNonFiniteIndex(tau) {
                throw MergeError("\(taskVector.path): tensor '\(spec.name)': contains NaN or infinity (first at element \(index))")
            }
            return (baseValues, .double(tau))
        }
    }
}
