import Linalg

/// Where merged tensors go: a `CheckpointOutput` (which holds every rule for where and how an
/// output appears) fed one tensor at a time. A checkpoint sink writes θ = θ₀ + α·τ_M evaluated in
/// Double, rounded once to each tensor's output dtype by the writer; a task-vector sink writes τ_M
/// itself, exactly (F32, or F64 in double precision). Copied tensors go through byte for byte.
final class OutputSink {
    enum Content {
        case checkpoint(alpha: Double)
        case taskVector
    }

    let writer: any CheckpointOutput
    let content: Content
    /// The checkpoint that copied tensors come from.
    let base: Checkpoint

    init(_ writer: any CheckpointOutput, content: Content, copyingFrom base: Checkpoint) {
        self.writer = writer
        self.content = content
        self.base = base
    }

    /// Writes the next tensor: copied from the base when `baseValues` is nil, else assembled.
    func emit(_ spec: TensorSpec, base baseValues: BaseValues?, taskVector: TaskVectorValues?) throws {
        switch content {
        case .taskVector:
            try writeTaskVector(spec, taskVector)
        case let .checkpoint(alpha):
            guard let baseValues else {
                try base.rawBytes(of: spec.name).withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
                return
            }
            switch (baseValues, taskVector) {
            case let (.float(b), .float(t)?): try write(spec, b, t, alpha: alpha)
            case let (.float(b), .double(t)?): try write(spec, b, t, alpha: alpha)
            case let (.double(b), .float(t)?): try write(spec, b, t, alpha: alpha)
            case let (.double(b), .double(t)?): try write(spec, b, t, alpha: alpha)
            case let (.float(b), nil): try write(spec, b, [Float](), alpha: 0)
            case let (.double(b), nil): try write(spec, b, [Float](), alpha: 0)
            }
        }
    }

    /// θᵢ = Double(baseᵢ) + α·Double(τᵢ) (τ empty: θ = base).
    private func write<B: LinalgScalar, Tau: LinalgScalar>(_ spec: TensorSpec, _ base: [B], _ tau: [Tau], alpha: Double) throws {
        try base.withUnsafeBufferPointer { base in
            try tau.withUnsafeBufferPointer { tau in
                try writer.write(spec.name, count: base.count) { range, out in
                    if tau.isEmpty {
                        for i in range { out[i - range.lowerBound] = Double(base[i]) }
                    } else {
                        for i in range { out[i - range.lowerBound] = Double(base[i]) + alpha * Double(tau[i]) }
                    }
                }
            }
        }
    }

    /// τ_M as stored in a task-vector file (zeros for a tensor whose task vectors are all zero).
    private func writeTaskVector(_ spec: TensorSpec, _ merged: TaskVectorValues?) throws {
        switch merged {
        case let .float(values): try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        case let .double(values): try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        case nil:
            let zeros = [Double](repeating: 0, count: spec.elementCount)
            try zeros.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
    }

    /// Every tensor in the writer's order through `compute` on a pass, then the output published;
    /// on any error the output is abandoned (nothing appears) and the error rethrown.
    func fill(pass: TensorPass, phase: String,
              compute: @escaping @Sendable (TensorSpec, _ threads: Int?) throws -> (base: BaseValues?, taskVector: TaskVectorValues?))
        throws -> MergeReport {
        let order = writer.order
        do {
            try pass.run(names: order.map(\.name), sizes: order.map(\.elementCount), bytes: order.map(\.byteCount), phase: phase,
                         job: { index, threads in try compute(order[index], threads) },
                         consume: { index, result in try self.emit(order[index], base: result.base, taskVector: result.taskVector) })
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return MergeReport(outputPaths: writer.outputPaths, tensors: order.count, bytesWritten: order.reduce(0) { $0 + $1.byteCount },
                           seconds: pass.elapsed, alpha: { if case let .checkpoint(alpha) = content { return alpha } else { return 1 } }())
    }
}
