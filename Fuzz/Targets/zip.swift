#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import IsoMerge

/// Zip archives (`ZipArchive`, the reader under every `.pt` checkpoint), parsed from memory and
/// from a scratch file, as `PyTorchCheckpoint` reads them.
///
/// Invariants: both sources give the same verdict (the same entries, or the same error). In an
/// accepted archive there is at most one entry per 46 bytes of input; sizes and offsets are not
/// negative; names are distinct and `entry(named:)` finds each entry itself. An entry whose data
/// is located (`dataRange`) has a local header at its offset naming it byte for byte, and its
/// data starts right after that header, holds exactly the declared size and ends at or before
/// the central directory, inside the input. `contents` (from either source) returns exactly those
/// bytes when their CRC-32 (computed here bit by bit) is the recorded one, and refuses them
/// otherwise, and refuses an entry larger than its limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        let fd = open(FuzzScratch.store("input.zip", bytes), O_RDONLY | O_CLOEXEC)
        require(fd >= 0, "cannot open the scratch archive")
        defer { close(fd) }
        let fromMemory = Result { () throws(SafetensorsError) in try ZipArchive(bytes: bytes, name: "input.zip") }
        let fromFile = Result { () throws(SafetensorsError) in try ZipArchive(.file(descriptor: fd, size: bytes.count), name: "input.zip") }
        let memory: ZipArchive, file: ZipArchive
        switch (fromMemory, fromFile) {
        case let (.success(fromMemory), .success(fromFile)): (memory, file) = (fromMemory, fromFile)
        case let (.failure(memoryError), .failure(fileError)):
            require(memoryError == fileError, "memory and file rejections differ: \(memoryError) / \(fileError)")
            return
        default:
            require(false, "memory and file disagree: \(fromMemory) / \(fromFile)")
            return
        }
        require(file.entries == memory.entries, "memory and file give different entries")
        require(memory.entries.count <= bytes.count / 46, "\(memory.entries.count) entries in \(bytes.count) bytes")
        require(memory.centralDirectoryOffset <= bytes.count, "central directory at \(memory.centralDirectoryOffset), past the end")
        require(Set(memory.entries.map(\.name)).count == memory.entries.count, "two entries share a name")
        for entry in memory.entries {
            require(entry.size >= 0 && entry.compressedSize >= 0 && entry.localHeaderOffset >= 0, "entry '\(entry.name)' has a negative field")
            require(memory.entry(named: entry.name) == entry, "entry(named: '\(entry.name)') finds another entry")
            guard let range = try? memory.dataRange(of: entry) else { continue }
            checkLocated(entry, range, in: bytes, directory: memory.centralDirectoryOffset)
            require((try? file.dataRange(of: entry)) == range, "entry '\(entry.name)' located differently in the file")
            let expected = Array(bytes[range])
            let intact = bitwiseCRC32(expected) == entry.crc32
            for archive in [memory, file] {
                let contents = try? archive.contents(of: entry, limit: entry.size)
                require(contents == (intact ? expected : nil),
                        "entry '\(entry.name)' (CRC \(intact ? "matches" : "differs")) reads \(contents.map { "\($0.count) bytes" } ?? "nothing")")
                if entry.size > 0 {
                    require((try? archive.contents(of: entry, limit: entry.size - 1)) == nil, "entry '\(entry.name)' read past its limit")
                }
            }
        }
    }
}

/// A located entry's local header lies at its offset and names it; its data follows the header
/// and its extra field, holds `entry.size` bytes and ends at or before the central directory.
func checkLocated(_ entry: ZipArchive.Entry, _ range: Range<Int>, in bytes: [UInt8], directory: Int) {
    let header = entry.localHeaderOffset, name = Array(entry.name.utf8)
    require(range.upperBound <= directory, "entry '\(entry.name)': data runs into the central directory")
    require(header + 30 + name.count <= range.lowerBound, "entry '\(entry.name)': data starts inside its local header")
    require(bytes[header..<header + 4] == [0x50, 0x4B, 0x03, 0x04], "entry '\(entry.name)': no local header signature at \(header)")
    require(Array(bytes[header + 30..<header + 30 + name.count]) == name, "entry '\(entry.name)': the local header names another entry")
    let extra = Int(bytes[header + 28]) | Int(bytes[header + 29]) << 8
    require(range.lowerBound == header + 30 + name.count + extra, "entry '\(entry.name)': data does not follow its local header")
    require(range.count == entry.size, "entry '\(entry.name)': \(range.count) bytes located, \(entry.size) declared")
}

/// CRC-32 (reflected polynomial 0xEDB88320) one bit at a time: the reference for the table-driven `CRC32`.
func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return ~crc
}
