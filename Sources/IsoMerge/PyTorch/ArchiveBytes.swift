#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes a `ZipArchive` reads: a buffer in memory, or a file read with positioned reads
/// (never mapped, never read whole). Every read is bounds-checked against `count` first, so a
/// range taken from a hostile header fails with an error instead of reading past the end.
enum ArchiveBytes: Sendable {
    case memory([UInt8])
    /// An open descriptor (owned by the caller) of a file of `size` bytes.
    case file(descriptor: Int32, size: Int)

    var count: Int {
        switch self {
        case let .memory(bytes): return bytes.count
        case let .file(_, size): return size
        }
    }

    /// The bytes in `range`; a range outside `0..<count` is an error naming `name` and `what`.
    /// Cost: one copy (memory) or one pread loop (file) of `range.count` bytes.
    func read(_ range: Range<Int>, name: String, what: String) throws(SafetensorsError) -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw SafetensorsError(file: name, "\(what) (bytes \(range.lowerBound)..<\(range.upperBound)) lies past the end of the "
                                   + "\(count)-byte file (truncated?)")
        }
        switch self {
        case let .memory(bytes):
            return Array(bytes[range])
        case let .file(descriptor, _):
            var buffer = [UInt8](repeating: 0, count: range.count)
            try SafetensorsFile.readFully(descriptor, into: &buffer, at: range.lowerBound, path: name)
            return buffer
        }
    }
}

/// Little-endian field access on a byte array, bounds-checked by the caller's length checks.
extension Array where Element == UInt8 {
    func littleEndian16(at offset: Int) -> Int {
        Int(self[offset]) | Int(self[offset + 1]) << 8
    }

    func littleEndian32(at offset: Int) -> Int {
        littleEndian16(at: offset) | littleEndian16(at: offset + 2) << 16
    }

    /// A 64-bit field as an Int; values of 2⁶³ and above (never a valid size or offset) are nil.
    func littleEndian64(at offset: Int) -> Int? {
        let high = UInt64(littleEndian32(at: offset + 4))
        guard high < 1 << 31 else { return nil }
        return Int(high << 32 | UInt64(littleEndian32(at: offset)))
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip archives record it.
/// Cost: one table lookup per byte.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
