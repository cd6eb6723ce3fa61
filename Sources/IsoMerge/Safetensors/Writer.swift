#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// One planned output tensor.
public struct TensorSpec: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Stored size; precondition: the shape's byte size is representable.
    public var byteCount: Int { dtype.byteCount(elements: elementCount)! }
}

/// Writes one safetensors file by streaming: the header is computed from the planned tensor list
/// up front, then tensors are written one at a time in file order, so the whole output is never
/// in memory. The file appears atomically: bytes go to a temporary file in the target directory
/// (registered with `TemporaryRegistry`), which is fsynced and renamed over the target by
/// `finish()` under the rules of `OutputTarget`; an abandoned or failed writer removes its
/// temporary file and leaves any existing target untouched. The bytes go out through a
/// `StagedFileOutput` (direct I/O where the file system allows it).
///
/// Values that come out NaN or infinite in the stored dtype (an F16 overflow, say) are counted
/// per tensor (`nonFiniteTensors`), and `finish()` refuses to publish such a file.
///
/// Byte-compatible with the reference writer: tensors sorted by dtype (descending, in the
/// format's declaration order) then name, compact JSON with `__metadata__` first and its keys
/// sorted, padded with spaces to a multiple of 8 bytes.
public final class SafetensorsWriter {
    public let path: String
    /// The tensors in the order they must be written.
    public let order: [TensorSpec]
    private let temporaryPath: String
    private let descriptor: Int32
    private let output: StagedFileOutput
    private let overwrite: Bool
    private var written = 0
    private var state: State = .open
    /// Tensors written from values that hold NaN or ±∞ as stored, with how many such values.
    public private(set) var nonFiniteTensors: [(name: String, dtype: DType, count: Int)] = []

    private enum State { case open, finished, abandoned }

    public init(path: String, tensors: [TensorSpec], metadata: [String: String] = [:],
                overwrite: Bool = false) throws(SafetensorsError) {
        self.path = path
        self.overwrite = overwrite
        var names = Set<String>()
        for spec in tensors {
            guard names.insert(spec.name).inserted else { throw SafetensorsError(file: path, tensor: spec.name, "planned twice") }
            guard spec.name != "__metadata__" else { throw SafetensorsError(file: path, "'__metadata__' is not a tensor name") }
            guard spec.dtype.byteCount(elements: spec.elementCount) != nil else {
                throw SafetensorsError(file: path, tensor: spec.name, "shape \(spec.shape) of \(spec.dtype.rawValue) has no whole byte size")
            }
        }
        order = Self.fileOrder(tensors)
        try OutputTarget(file: path).check(overwrite: overwrite, inputs: [])
        (temporaryPath, descriptor) = try createTemporaryFile(beside: path)
        output = StagedFileOutput(descriptor: descriptor)
        do throws(SafetensorsError) {
            try writeAll(Array(Self.headerBytes(order: order, metadata: metadata)))
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        if state == .open { abandon() }
    }

    /// The reference writer's order: dtype descending, then name ascending.
    public static func fileOrder(_ tensors: [TensorSpec]) -> [TensorSpec] {
        tensors.sorted { $0.dtype != $1.dtype ? $0.dtype > $1.dtype : $0.name < $1.name }
    }

    /// The 8-byte length and the padded JSON header for tensors already in file order, with
    /// `metadata` sorted by key and `"format": "pt"` unless given.
    static func headerBytes(order: [TensorSpec], metadata: [String: String]) -> [UInt8] {
        var metadata = metadata
        if metadata["format"] == nil { metadata["format"] = "pt" }
        var entries: [TensorEntry] = []
        var offset = 0
        for spec in order {
            let end = offset + spec.byteCount
            entries.append(TensorEntry(name: spec.name, dtype: spec.dtype, shape: spec.shape, dataOffsets: offset..<end))
            offset = end
        }
        return SafetensorsHeader.encode(entries: entries, metadata: metadata.keys.sorted().map { ($0, metadata[$0]!) })
    }

    /// The next tensor to write, or nil when all are written.
    public var nextTensor: TensorSpec? { written < order.count ? order[written] : nil }

    /// Writes the next tensor's stored bytes.
    public func write(_ name: String, bytes: UnsafeRawBufferPointer) throws(SafetensorsError) {
        let spec = try expect(name)
        guard bytes.count == spec.byteCount else {
            throw SafetensorsError(file: path, tensor: name, "got \(bytes.count) bytes, expected \(spec.byteCount)")
        }
        try writeAll(bytes, tensor: name)
        written += 1
    }

    /// Writes the next tensor from values, converted to its planned float dtype (rounding to
    /// nearest even; Double → F16/BF16 rounds once). Not `@_specialize(exported:)`, for the reason
    /// `SafetensorsFile.values(of:as:)` gives: once the adapter writer called it from lane jobs,
    /// Swift 6.3's release build emitted the specializations under another symbol and linking failed.
    public func write<T: LinalgScalar>(_ name: String, values: UnsafeBufferPointer<T>) throws(SafetensorsError) {
        let spec = try expect(name)
        guard spec.dtype.isConvertibleFloat else {
            throw SafetensorsError(file: path, tensor: name, "cannot write values as \(spec.dtype.rawValue)")
        }
        guard values.count == spec.elementCount else {
            throw SafetensorsError(file: path, tensor: name, "got \(values.count) values, shape \(spec.shape) needs \(spec.elementCount)")
        }
        // Stored exactly as T (little-endian host): write the buffer itself.
        if (spec.dtype == .f32 && T.self == Float.self) || (spec.dtype == .f64 && T.self == Double.self) {
            let raw = UnsafeRawBufferPointer(values)
            note(spec, nonFinite: Self.nonFiniteCount(raw, as: spec.dtype))
            try writeAll(raw, tensor: spec.name)
            written += 1
            return
        }
        try write(name, count: values.count) { range, out in
            for i in range { out[i - range.lowerBound] = Double(values[i]) }
        }
    }

    /// Writes the next tensor from Double values that `produce(range, out)` computes a chunk at a
    /// time (out[i − range.lowerBound] for i in range), each rounded once to the planned float
    /// dtype. Memory: one chunk of Doubles and one of stored bytes, whatever the tensor's size.
    public func write(_ name: String, count: Int,
                      produce: (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws(SafetensorsError) {
        let spec = try expect(name)
        guard spec.dtype.isConvertibleFloat else {
            throw SafetensorsError(file: path, tensor: name, "cannot write values as \(spec.dtype.rawValue)")
        }
        guard count == spec.elementCount else {
            throw SafetensorsError(file: path, tensor: name, "got \(count) values, shape \(spec.shape) needs \(spec.elementCount)")
        }
        let elementBytes = spec.dtype.bits / 8
        let chunk = max(1, (1 << 20) / elementBytes)
        var values = [Double](repeating: 0, count: min(count, chunk))
        var stored = [UInt8](repeating: 0, count: min(count, chunk) * elementBytes)
        var done = 0, nonFinite = 0
        while done < count {
            let width = min(chunk, count - done)
            values.withUnsafeMutableBufferPointer { produce(done..<(done + width), UnsafeMutableBufferPointer(rebasing: $0[0..<width])) }
            values.withUnsafeBufferPointer { values in
                stored.withUnsafeMutableBytes { raw in encode(UnsafeBufferPointer(rebasing: values[0..<width]), as: spec.dtype, into: raw) }
            }
            if let error = stored.withUnsafeBytes({ raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<(width * elementBytes)])
                nonFinite += Self.nonFiniteCount(bytes, as: spec.dtype)
                return writeRaw(bytes, tensor: name)
            }) {
                throw error
            }
            done += width
        }
        note(spec, nonFinite: nonFinite)
        written += 1
    }

    private func note(_ spec: TensorSpec, nonFinite count: Int) {
        if count > 0 { nonFiniteTensors.append((spec.name, spec.dtype, count)) }
    }

    /// How many of the little-endian float elements in `bytes` are NaN or ±∞ (all exponent bits set).
    static func nonFiniteCount(_ bytes: UnsafeRawBufferPointer, as dtype: DType) -> Int {
        func count<Bits: FixedWidthInteger>(_: Bits.Type, exponent: Bits) -> Int {
            var total = 0
            for i in 0..<(bytes.count / MemoryLayout<Bits>.size) {
                let bits = Bits(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<Bits>.size, as: Bits.self))
                if bits & exponent == exponent { total += 1 }
            }
            return total
        }
        switch dtype {
        case .f64: return count(UInt64.self, exponent: 0x7FF0_0000_0000_0000)
        case .f32: return count(UInt32.self, exponent: 0x7F80_0000)
        case .f16: return count(UInt16.self, exponent: 0x7C00)
        case .bf16: return count(UInt16.self, exponent: 0x7F80)
        default: return 0
        }
    }

    /// The refusal for tensors that would hold NaN or ±∞, naming each.
    static func nonFiniteError(file: String, _ tensors: [(name: String, dtype: DType, count: Int)]) -> SafetensorsError {
        let shown = tensors.prefix(20).map { "'\($0.name)' (\($0.count) value\($0.count == 1 ? "" : "s") as \($0.dtype.rawValue))" }.joined(separator: ", ")
        let more = tensors.count > 20 ? " and \(tensors.count - 20) more" : ""
        return SafetensorsError(file: file, "not written: \(tensors.count) tensor\(tensors.count == 1 ? "" : "s") would hold NaN or "
                                + "infinity (the values overflow the output dtype or are not numbers): \(shown)\(more)")
    }

    /// Makes the file visible at `path`: checks every tensor was written and every value is
    /// finite, fsyncs, renames.
    public func finish() throws(SafetensorsError) {
        guard state == .open else { throw SafetensorsError(file: path, "writer already closed") }
        if let missing = nextTensor {
            abandon()
            throw SafetensorsError(file: path, tensor: missing.name, "was never written")
        }
        if !nonFiniteTensors.isEmpty {
            abandon()
            throw Self.nonFiniteError(file: path, nonFiniteTensors)
        }
        try seal()
        state = .finished
        try OutputTarget(file: path).publish(file: temporaryPath, overwrite: overwrite)
    }

    /// Writes out and fsyncs the bytes and closes the file, still under its temporary name.
    private func seal() throws(SafetensorsError) {
        if let failure = output.finish() {
            abandon()
            throw SafetensorsError(file: path, failure)
        }
        close(descriptor)
    }

    /// Gives up: removes the temporary file; the target is untouched.
    public func abandon() {
        guard state == .open else { return }
        close(descriptor)
        TemporaryRegistry.shared.remove(temporaryPath)
        state = .abandoned
    }

    private func expect(_ name: String) throws(SafetensorsError) -> TensorSpec {
        guard state == .open else { throw SafetensorsError(file: path, tensor: name, "writer already closed") }
        guard let spec = nextTensor else { throw SafetensorsError(file: path, tensor: name, "all planned tensors were already written") }
        guard spec.name == name else {
            throw SafetensorsError(file: path, tensor: name, "written out of order: the next tensor in the file is '\(spec.name)'")
        }
        return spec
    }

    private func writeAll(_ bytes: [UInt8]) throws(SafetensorsError) {
        if let error = bytes.withUnsafeBytes({ writeRaw($0, tensor: nil) }) { throw error }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, tensor: String) throws(SafetensorsError) {
        if let error = writeRaw(bytes, tensor: tensor) { throw error }
    }

    /// Appends the bytes (of `tensor`, or the header); on failure abandons the file and returns why.
    private func writeRaw(_ bytes: UnsafeRawBufferPointer, tensor: String?) -> SafetensorsError? {
        guard let failure = output.append(bytes) else { return nil }
        abandon()
        return SafetensorsError(file: path, tensor: tensor, failure)
    }
}

/// Stores `values` as little-endian `dtype` elements into `out`, each rounded once to nearest
/// even: to F32 directly, to F16/BF16 through a Float rounded to odd (which 16-bit rounding then
/// turns into the correctly rounded value, as if from the Double itself).
func encode(_ values: UnsafeBufferPointer<Double>, as dtype: DType, into out: UnsafeMutableRawBufferPointer) {
    switch dtype {
    case .f64:
        for (i, v) in values.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
    case .f32:
        for (i, v) in values.enumerated() { out.storeBytes(of: Float(v).bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
    case .f16:
        for (i, v) in values.enumerated() {
            out.storeBytes(of: HalfPrecision.f16Bits(from: Float(roundingToOdd: v)).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    case .bf16:
        for (i, v) in values.enumerated() {
            out.storeBytes(of: HalfPrecision.bf16Bits(from: Float(roundingToOdd: v)).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    default:
        preconditionFailure("encode: \(dtype) is not a convertible float type")
    }
}

/// fsyncs the directory holding `path`, so that a rename survives a crash.
func syncDirectory(of path: String) {
    let directory = TemporaryName.split(path).directory
    syncDirectory(directory.isEmpty ? "." : directory)
}

/// POSIX write(2) (named so that it does not clash with the writer's own `write` methods).
@inline(__always)
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
