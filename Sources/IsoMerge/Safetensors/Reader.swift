#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// A safetensors file opened for reading: the header is read and validated at once, tensor data
/// only when asked for, with positioned reads. The file is opened read-only and never modified;
/// peak memory is the header plus what the caller asks for. `PyTorchCheckpoint` opens a torch
/// archive as one of these, so that every reader of safetensors reads it too.
public final class SafetensorsFile: @unchecked Sendable {
    /// The path as given, used in every error message.
    public let path: String
    public let header: SafetensorsHeader
    private let descriptor: Int32
    private let index: [String: Int]
    /// Where entries' data offsets count from: the data buffer, or byte 0 of a PyTorch archive.
    private let dataStart: Int
    /// PyTorch tensors whose bytes are not one little-endian run of the file, by name.
    private let gathered: [String: GatheredTensor]

    /// Tensors in data-buffer order.
    public var entries: [TensorEntry] { header.entries }

    public init(path: String) throws(SafetensorsError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafetensorsError(file: path, "cannot open: \(systemError())") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw SafetensorsError(file: path, "cannot stat: \(systemError())")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw SafetensorsError(file: path, "is a directory, not a .safetensors file")
        }
        descriptor = fd
        let fileSize = Int(info.st_size)
        do throws(SafetensorsError) {
            guard fileSize >= 8 else {
                throw SafetensorsError(file: path, "file is \(fileSize) bytes, too small for the 8-byte header length")
            }
            var lengthBytes = [UInt8](repeating: 0, count: 8)
            try Self.readFully(fd, into: &lengthBytes, at: 0, path: path)
            let length = try SafetensorsHeader.jsonLength(prefix: lengthBytes, fileSize: fileSize, file: path)
            var json = [UInt8](repeating: 0, count: length)
            try Self.readFully(fd, into: &json, at: 8, path: path)
            header = try SafetensorsHeader(json: json, fileSize: fileSize, file: path)
            dataStart = 8 + header.length
            gathered = [:]
        } catch {
            close(fd)
            throw error
        }
        var index: [String: Int] = [:]
        for (position, entry) in header.entries.enumerated() { index[entry.name] = position }
        self.index = index
    }

    /// The tensors of a PyTorch archive open on `descriptor` (which this file then owns): each
    /// entry's data offsets are absolute file offsets of its bytes, except for the `gathered`
    /// tensors, whose offsets only span their byte count and which are read by gathering.
    init(path: String, descriptor: Int32, entries: [TensorEntry], gathered: [String: GatheredTensor]) {
        self.path = path
        self.descriptor = descriptor
        header = SafetensorsHeader(entries: entries)
        dataStart = 0
        self.gathered = gathered
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() { index[entry.name] = position }
        self.index = index
    }

    deinit { close(descriptor) }

    /// The entry named `name`, or nil.
    public func entry(named name: String) -> TensorEntry? {
        index[name].map { header.entries[$0] }
    }

    /// The tensor's raw bytes, exactly as stored.
    public func rawBytes(of entry: TensorEntry) throws(SafetensorsError) -> [UInt8] {
        if let view = gathered[entry.name] { return try view.bytes(descriptor: descriptor, path: path, tensor: entry.name) }
        var bytes = [UInt8](repeating: 0, count: entry.byteCount)
        try Self.readFully(descriptor, into: &bytes, at: dataStart + entry.dataOffsets.lowerBound, path: path,
                           tensor: entry.name)
        return bytes
    }

    /// The tensor's elements converted exactly to `T` (F64, F32, F16 or BF16 storage; F64 into
    /// Float rounds to nearest). Specialized by the optimizer at its callers in this module.
    public func values<T: LinalgScalar>(of entry: TensorEntry, as _: T.Type = T.self) throws(SafetensorsError) -> [T] {
        guard entry.dtype.isConvertibleFloat else {
            throw SafetensorsError(file: path, tensor: entry.name, "dtype \(entry.dtype.rawValue) is not a float type IsoMerge converts (F64, F32, F16, BF16)")
        }
        if let view = gathered[entry.name] {
            let raw = try view.bytes(descriptor: descriptor, path: path, tensor: entry.name)
            var result = [T](repeating: 0, count: entry.elementCount)
            raw.withUnsafeBytes { raw in
                result.withUnsafeMutableBufferPointer { out in
                    if let base = out.baseAddress { convert(raw, dtype: entry.dtype, into: base, count: entry.elementCount) }
                }
            }
            return result
        }
        // Stored exactly as T (little-endian host): read straight into the result.
        if (entry.dtype == .f32 && T.self == Float.self) || (entry.dtype == .f64 && T.self == Double.self) {
            return try [T](uninitializedCount: entry.elementCount) { buffer throws(SafetensorsError) in
                try Self.readFully(descriptor, into: UnsafeMutableRawBufferPointer(buffer), at: dataStart + entry.dataOffsets.lowerBound,
                                   path: path, tensor: entry.name)
            }
        }
        var result = [T](repeating: 0, count: entry.elementCount)
        // Convert in chunks so that the raw copy never exceeds 1 MiB beside the result.
        let elementBytes = entry.dtype.bits / 8
        let chunkElements = max(1, (1 << 20) / elementBytes)
        var scratch = [UInt8](repeating: 0, count: min(entry.byteCount, chunkElements * elementBytes))
        var done = 0
        while done < entry.elementCount {
            let count = min(chunkElements, entry.elementCount - done)
            if scratch.count != count * elementBytes { scratch = [UInt8](repeating: 0, count: count * elementBytes) }
            try Self.readFully(descriptor, into: &scratch,
                               at: dataStart + entry.dataOffsets.lowerBound + done * elementBytes, path: path,
                               tensor: entry.name)
            scratch.withUnsafeBytes { raw in
                result.withUnsafeMutableBufferPointer { out in
                    convert(raw, dtype: entry.dtype, into: out.baseAddress! + done, count: count)
                }
            }
            done += count
        }
        return result
    }

    /// pread until `buffer` is full; a short file is an error, never a hang.
    static func readFully(_ fd: Int32, into buffer: inout [UInt8], at offset: Int, path: String,
                          tensor: String? = nil) throws(SafetensorsError) {
        let error = buffer.withUnsafeMutableBytes { raw -> SafetensorsError? in
            do throws(SafetensorsError) {
                try readFully(fd, into: raw, at: offset, path: path, tensor: tensor)
                return nil
            } catch { return error }
        }
        if let error { throw error }
    }

    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String,
                          tensor: String? = nil) throws(SafetensorsError) {
        var done = 0
        let total = buffer.count
        while done < total {
            let got = pread(fd, buffer.baseAddress! + done, total - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError(file: path, tensor: tensor, "read failed: \(systemError())")
            }
            if got == 0 {
                throw SafetensorsError(file: path, tensor: tensor, "file ended early (truncated while reading?)")
            }
            done += got
        }
    }
}

/// Converts `count` little-endian elements of `dtype` at `raw` into `out`.
func convert<T: LinalgScalar>(_ raw: UnsafeRawBufferPointer, dtype: DType, into out: UnsafeMutablePointer<T>, count: Int) {
    switch dtype {
    case .f64:
        for i in 0..<count { out[i] = T(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
    case .f32:
        for i in 0..<count { out[i] = T(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))) }
    case .f16:
        for i in 0..<count { out[i] = T(HalfPrecision.float(fromF16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
    case .bf16:
        for i in 0..<count { out[i] = T(HalfPrecision.float(fromBF16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
    default:
        preconditionFailure("convert: \(dtype) is not a convertible float type")
    }
}

/// The text for the current `errno`.
func systemError() -> String {
    String(cString: strerror(errno))
}
