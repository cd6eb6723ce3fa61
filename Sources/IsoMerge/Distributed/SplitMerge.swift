/// A merge split into parts that separate processes or machines run (docs/DISTRIBUTED.md): part
/// i of N merges and writes only the shards `MergePartition` gives it (`mergePart`), and a
/// finishing step checks them all and writes the index (`finishParts`). The result is the
/// bytes of the one-process merge with the same shard size. Every part reads the plan's headers;
/// a rule with a whole-model pre-pass (TIES) runs it in every part, since each part needs its
/// result for its own tensors.
extension MergeEngine {
    /// How this merge splits into `parts` parts with shards of at most `maximumShardBytes`.
    public func partition(parts: Int, maximumShardBytes: Int) throws(MergeError) -> MergePartition {
        let tensors = Dictionary(uniqueKeysWithValues: plan.tensors.map { ($0.name, $0) })
        let order = SafetensorsWriter.fileOrder(plan.checkpointSpecs(dtype: options.outputDType))
        return try MergePartition(order: order, maximumShardBytes: maximumShardBytes, parts: parts) { spec in
            TensorCost.estimate(tensors[spec.name]!, output: spec, rule: options.rule, tasks: plan.models.count)
        }
    }

    /// What every part of this merge and its finishing step must agree on.
    public func fingerprint(metadata: [String: String], parts: Int, maximumShardBytes: Int) -> PartFingerprint {
        PartFingerprint(plan: plan, metadata: metadata, outputDType: options.outputDType, maximumShardBytes: maximumShardBytes,
                        parts: parts)
    }

    /// Merges and writes part `part` (1…`parts`) of θ₀ + α·τ_M into `directory`: its shards, then
    /// its record (`PartWriter`).
    public func mergePart(_ part: Int, of parts: Int, to directory: String, metadata: [String: String] = [:],
                          maximumShardBytes: Int, overwrite: Bool = false) throws -> MergeReport {
        precondition((1...parts).contains(part), "part \(part) is not one of 1…\(parts)")
        let writer = try PartWriter(directory: directory, partition: try partition(parts: parts, maximumShardBytes: maximumShardBytes),
                                    part: part, fingerprint: fingerprint(metadata: metadata, parts: parts, maximumShardBytes: maximumShardBytes),
                                    metadata: metadata, overwrite: overwrite, inputs: [base] + models)
        return try stream(into: OutputSink(writer, content: .checkpoint(alpha: options.effectiveAlpha), copyingFrom: base))
    }

    /// Checks that all `parts` parts completed in `directory` with this merge's settings and writes
    /// the index (`PartAssembly`); returns the checkpoint's files.
    public func finishParts(_ parts: Int, in directory: String, metadata: [String: String] = [:],
                            maximumShardBytes: Int, overwrite: Bool = false) throws -> [String] {
        try PartAssembly.finish(directory: directory, partition: try partition(parts: parts, maximumShardBytes: maximumShardBytes),
                                fingerprint: fingerprint(metadata: metadata, parts: parts, maximumShardBytes: maximumShardBytes),
                                metadata: metadata, overwrite: overwrite)
    }
}
