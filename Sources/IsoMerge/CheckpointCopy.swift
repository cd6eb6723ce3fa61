extension Checkpoint {
    /// Writes this checkpoint's tensors and metadata, byte for byte, to `destination` through a
    /// `CheckpointWriter` (so under its rules: staged, published at once, never over an input).
    /// Reads one tensor at a time.
    public func copy(to destination: String, overwrite: Bool, inputs: [Checkpoint]) throws {
        let specs = tensors.map { TensorSpec(name: $0.entry.name, dtype: $0.entry.dtype, shape: $0.entry.shape) }
        let meta = Dictionary(metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let writer = try CheckpointWriter(destination: destination, tensors: specs, metadata: meta, overwrite: overwrite,
                                          inputs: inputs + [self])
        for spec in writer.order {
            try rawBytes(of: spec.name).withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
        }
        try writer.finish()
    }
}
