/// A storage as a pickle's persistent id names it: `('storage', torch.FloatStorage, key,
/// location, numel)`. Its bytes are the archive entry `data/<key>`; the location (`cpu`,
/// `cuda:0`) does not matter, the bytes are in the file either way.
public struct TorchStorageReference: Sendable, Equatable {
    public let key: String
    /// The element type of a typed storage; nil for `torch.UntypedStorage` (bytes, whose tensors
    /// name their dtype).
    public let dtype: DType?
    /// numel × element size, overflow-checked.
    public let byteCount: Int
}

/// A tensor as `torch._utils._rebuild_tensor_v2/v3` describes it: a strided view of a storage.
/// Element count and strides are checked for overflow and sign on creation; whether the view
/// stays inside its storage is checked by `highestElement(in:)` once the tensor has a name.
public struct TorchTensorReference: Sendable, Equatable {
    public let storage: TorchStorageReference
    public let dtype: DType
    /// In elements of `dtype`.
    public let storageOffset: Int
    public let shape: [Int]
    public let strides: [Int]
    public let elementCount: Int

    /// nil when a dimension or stride is negative, the ranks differ or the element count overflows.
    init?(storage: TorchStorageReference, dtype: DType, storageOffset: Int, shape: [Int], strides: [Int]) {
        guard storageOffset >= 0, shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            return nil
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        guard dtype.byteCount(elements: count) != nil else { return nil }
        self.storage = storage
        self.dtype = dtype
        self.storageOffset = storageOffset
        self.shape = shape
        self.strides = strides
        self.elementCount = count
    }

    /// numel × element size (checked on creation).
    var byteCount: Int { dtype.byteCount(elements: elementCount)! }

    /// The storage elements of `dtype` that the storage's bytes hold.
    var storageElements: Int { storage.byteCount / (dtype.bits / 8) }

    /// The largest storage index any element reads (offset + Σ (size − 1)·stride), or nil for an
    /// empty tensor. Throws the reason when the view reaches past the storage's end.
    func highestElement() throws(TorchLayoutError) -> Int? {
        guard elementCount > 0 else { return nil }
        var highest = storageOffset
        for (size, stride) in zip(shape, strides) {
            let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflowSum) = highest.addingReportingOverflow(step)
            guard !overflow, !overflowSum else { throw TorchLayoutError("shape \(shape) with strides \(strides) overflows") }
            highest = sum
        }
        guard highest < storageElements else {
            throw TorchLayoutError("storage offset \(storageOffset), shape \(shape) and strides \(strides) reach element \(highest) "
                                   + "of storage '\(storage.key)', which holds \(storageElements) \(dtype.rawValue) elements")
        }
        return highest
    }

    /// Row-major and dense: the elements are one run of the storage (size-1 dimensions may have
    /// any stride).
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }
}

/// Why a tensor's layout cannot be read; the caller adds the file and tensor.
struct TorchLayoutError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The torch names for element types that have a safetensors dtype.
enum TorchTypes {
    /// `torch.<name>Storage` → element type; `UntypedStorage` → `.some(nil)`; unknown → nil.
    static func storageDType(_ name: String) -> DType?? {
        switch name {
        case "UntypedStorage": return .some(nil)
        case "DoubleStorage": return .f64
        case "FloatStorage": return .f32
        case "HalfStorage": return .f16
        case "BFloat16Storage": return .bf16
        case "LongStorage": return .i64
        case "IntStorage": return .i32
        case "ShortStorage": return .i16
        case "CharStorage": return .i8
        case "ByteStorage": return .u8
        case "BoolStorage": return .bool
        case "ComplexFloatStorage": return .c64
        default: return nil
        }
    }

    /// `torch.<name>` dtype objects (as `_rebuild_tensor_v3` receives them) → element type.
    static func dtype(named name: String) -> DType? {
        switch name {
        case "float64", "double": return .f64
        case "float32", "float": return .f32
        case "float16", "half": return .f16
        case "bfloat16": return .bf16
        case "int64", "long": return .i64
        case "int32", "int": return .i32
        case "int16", "short": return .i16
        case "int8": return .i8
        case "uint8": return .u8
        case "uint16": return .u16
        case "uint32": return .u32
        case "uint64": return .u64
        case "bool": return .bool
        case "complex64", "cfloat": return .c64
        case "float8_e5m2": return .f8E5M2
        case "float8_e4m3fn": return .f8E4M3
        case "float8_e8m0fnu": return .f8E8M0
        default: return nil
        }
    }
}

/// A tensor whose bytes are not one little-endian run of the file: a strided view, or a storage
/// written on a big-endian machine. Reading gathers the elements in row-major order from one
/// read of the storage span the view touches (at most the storage, which lies in the file), and
/// reverses each element's bytes when `byteSwapped`. Memory: that span plus the result.
struct GatheredTensor: Sendable {
    /// Absolute file offset of the storage's first byte.
    let storageStart: Int
    let elementSize: Int
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
    /// The largest storage index read (from `TorchTensorReference.highestElement`).
    let highestElement: Int
    let byteSwapped: Bool
    let elementCount: Int

    func bytes(descriptor: Int32, path: String, tensor: String) throws(SafetensorsError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: elementCount * elementSize)
        guard elementCount > 0 else { return result }
        var span = [UInt8](repeating: 0, count: (highestElement - storageOffset + 1) * elementSize)
        try SafetensorsFile.readFully(descriptor, into: &span, at: storageStart + storageOffset * elementSize, path: path, tensor: tensor)
        let size = elementSize
        let swap = byteSwapped
        // A size-1 dimension's stride is never stepped over; zero keeps the odometer from overflowing on it.
        let strides = zip(shape, self.strides).map { $0 == 1 ? 0 : $1 }
        span.withUnsafeBytes { source in
            result.withUnsafeMutableBytes { target in
                var counter = [Int](repeating: 0, count: shape.count)
                var sourceIndex = 0
                for element in 0..<elementCount {
                    let from = sourceIndex * size, to = element * size
                    for byte in 0..<size { target[to + byte] = source[swap ? from + size - 1 - byte : from + byte] }
                    // Odometer step over the dimensions, last fastest.
                    var dimension = shape.count - 1
                    while dimension >= 0 {
                        counter[dimension] += 1
                        sourceIndex += strides[dimension]
                        if counter[dimension] < shape[dimension] { break }
                        sourceIndex -= strides[dimension] * shape[dimension]
                        counter[dimension] = 0
                        dimension -= 1
                    }
                }
            }
        }
        return result
    }
}
