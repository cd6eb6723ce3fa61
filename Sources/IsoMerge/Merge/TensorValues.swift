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
        case let .float(values): index = firstNonFiniteIndex(values)
        case let .double(values): index = firstNonFiniteIndex(values)
        }
        if let index { throw MergeError("\(file): tensor '\(tensor)': contains NaN or infinity (first at element \(index))") }
    }

    /// (self − base) computed exactly (Double holds the difference of two Floats exactly), then
    /// rounded once to the working precision: converting first would add θ's rounding noise to τ
    /// (docs/ALGORITHMS.md). Consumes self, reusing its storage when the types allow.
    consuming func subtracting<T: LinalgScalar>(_ base: BaseValues) -> [T] {
        // The payload is taken out of `self` (consumed, not copied), so the in-place branches
        // write into the storage that was read: one reference, no copy on write.
        switch consume self {
        case var .float(a):
            guard case let .float(b) = base else { break }
            if T.self == Float.self {
                subtractInPlace(&a, b)
                return sameStorage(a, as: T.self)
            }
            return elementwise(a, b) { T(Double($0) - Double($1)) }
        case var .double(a):
            guard case let .double(b) = base else { break }
            if T.self == Double.self {
                subtractInPlace(&a, b)
                return sameStorage(a, as: T.self)
            }
            return elementwise(a, b) { T($0 - $1) }
        }
        preconditionFailure("checkpoints disagree in dtype (validation should have caught it)")
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

    /// The same storage: the engine works in Float or Double.
    init<T: LinalgScalar>(_ values: [T]) {
        self = T.self == Float.self ? .float(sameStorage(values, as: Float.self)) : .double(sameStorage(values, as: Double.self))
    }
}

/// `values` as an array of T, which must be its element type: the same storage. (`as!` and `as?`
/// between array types convert element by element into a new array, even when the types agree:
/// that copy was a quarter of an averaging merge's time.)
func sameStorage<E, T>(_ values: [E], as _: T.Type) -> [T] {
    precondition(E.self == T.self, "sameStorage: \(E.self) is not \(T.self)")
    return unsafeBitCast(values, to: [T].self)
}

/// a[i] −= b[i] for every i.
func subtractInPlace<E: FloatingPoint>(_ a: inout [E], _ b: [E]) {
    a.withUnsafeMutableBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            for i in 0..<a.count { a[i] -= b[i] }
        }
    }
}

/// f(a[i], b[i]) for every i, into a new array without intermediate copies.
@inline(__always)
func elementwise<A, B, R>(_ a: [A], _ b: [B], _ f: (A, B) -> R) -> [R] {
    [R](uninitializedCount: a.count) { out in
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for i in 0..<a.count { (out.baseAddress! + i).initialize(to: f(a[i], b[i])) }
            }
        }
    }
}
