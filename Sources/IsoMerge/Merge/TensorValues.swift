import Linalg

/// A tensor's values in the precision its dtype needs for exact subtraction: Double for F64
/// storage, Float for F32, F16 and BF16 (which Float holds exactly).
enum BaseValues {
    case float([Float])
    case double([Double])

    static func read(_ file: SafetensorsFile, _ entry: TensorEntry) throws(SafetensorsError) -> BaseValues {
        entry.dtype == .f64 ? .double(try file.values(of: entry, as: Double.self))
                            : .float(try file.values(of: entry, as: Float.self))
    }

    /// NaN or ±∞ anywhere is an error naming the checkpoint and tensor.
    func checkFinite(file: String, tensor: String) throws(MergeError) {
        let index: Int?
        switch self {
        case let .float(values): index = values.firstIndex { !$0.isFinite }
        case let .double(values): index = values.firstIndex { !$0.isFinite }
        }
        if let index { throw MergeError("\(file): tensor '\(tensor)': contains NaN or infinity (first at element \(index))") }
    }

    /// (self − base) computed in the inputs' precision, then converted to the working precision:
    /// converting first would add θ's rounding noise to τ (ALGORITHMS.md).
    func subtracting<T: LinalgScalar>(_ base: BaseValues) -> [T] {
        switch (self, base) {
        case let (.float(a), .float(b)): return zip(a, b).map { T(Double($0) - Double($1)) }
        case let (.double(a), .double(b)): return zip(a, b).map { T($0 - $1) }
        default: preconditionFailure("checkpoints disagree in dtype (validation should have caught it)")
        }
    }

    func value(at index: Int) -> Double {
        switch self {
        case let .float(values): return Double(values[index])
        case let .double(values): return values[index]
        }
    }

    var count: Int {
        switch self {
        case let .float(values): return values.count
        case let .double(values): return values.count
        }
    }
}

/// A merged task vector τ_M in the working precision.
enum TaskVectorValues {
    case float([Float])
    case double([Double])

    init<T: LinalgScalar>(_ values: [T]) {
        if let floats = values as? [Float] { self = .float(floats) } else { self = .double(values.map(Double.init)) }
    }

    func value(at index: Int) -> Double {
        switch self {
        case let .float(values): return Double(values[index])
        case let .double(values): return values[index]
        }
    }
}

/// Output values: θ = θ₀ + α·τ_M evaluated in Double and rounded once to the output dtype.
enum OutputAssembly {
    static func write(_ spec: TensorSpec, base: BaseValues, taskVector: TaskVectorValues?, alpha: Double,
                      to writer: CheckpointWriter) throws {
        let count = base.count
        func merged(_ i: Int) -> Double {
            guard let taskVector else { return base.value(at: i) }
            return base.value(at: i) + alpha * taskVector.value(at: i)
        }
        switch spec.dtype {
        case .f64:
            let values = (0..<count).map(merged)
            try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        case .f32:
            let values = (0..<count).map { Float(merged($0)) }
            try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        default:
            // Round to odd into Float, so that the writer's rounding to 16 bits is the only one.
            let values = (0..<count).map { Float(roundingToOdd: merged($0)) }
            try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
    }

    /// τ_M as stored in a task-vector file (zeros for frozen tensors).
    static func writeTaskVector(_ spec: TensorSpec, merged: TaskVectorValues?, to writer: CheckpointWriter) throws {
        switch merged {
        case let .float(values): try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        case let .double(values): try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        case nil:
            let zeros = [Double](repeating: 0, count: spec.elementCount)
            try zeros.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
    }
}
