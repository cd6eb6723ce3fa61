/// The central directory of a zip archive, as `torch.save` (≥ 1.6) writes it: entries stored
/// uncompressed, a ZIP64 end record, data aligned by padding in the local headers' extra fields.
///
/// Reading trusts nothing: the end record is searched for only in the last 64 KiB + 22 bytes;
/// the central directory must lie inside the file before its end record; each entry takes at
/// least 46 bytes of it (so the entry count is bounded by the file size); names are unique;
/// ZIP64 extra fields are honoured where a 32-bit field is saturated. An entry's data is located
/// only on request (`dataRange`), which checks its local header, rejects compressed or encrypted
/// data and checks that the data ends before the central directory. Memory: the central
/// directory's size, plus what the caller reads.
public struct ZipArchive: Sendable {
    /// One central-directory entry.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 = stored; anything else is refused when the data is read.
        public let method: Int
        public let flags: Int
        public let crc32: UInt32
        public let compressedSize: Int
        public let size: Int
        public let localHeaderOffset: Int
    }

    /// Entries in central-directory order.
    public let entries: [Entry]
    /// The name used in errors (the file's path, or the caller's label for a buffer).
    public let name: String
    let bytes: ArchiveBytes
    /// Where the central directory starts: every entry's data must end at or before it.
    let centralDirectoryOffset: Int
    private let index: [String: Int]

    /// Parses the archive held in `bytes`; `name` labels errors.
    public init(bytes: [UInt8], name: String = "<bytes>") throws(SafetensorsError) {
        try self.init(.memory(bytes), name: name)
    }

    init(_ bytes: ArchiveBytes, name: String) throws(SafetensorsError) {
        self.bytes = bytes
        self.name = name
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(file: name, message) }
        let size = bytes.count
        guard size >= 22 else { throw fail("is \(size) bytes, too small to be a zip archive") }
        let tailStart = max(0, size - 22 - 0xFFFF)
        let tail = try bytes.read(tailStart..<size, name: name, what: "end of archive")
        var endRecord: Int?
        for position in stride(from: tail.count - 22, through: 0, by: -1)
        where tail.littleEndian32(at: position) == 0x0605_4B50 && position + 22 + tail.littleEndian16(at: position + 20) == tail.count {
            endRecord = position
            break
        }
        guard let end = endRecord else {
            throw fail("has no zip end-of-central-directory record (not a zip archive, or truncated)")
        }
        let endOffset = tailStart + end
        var entryCount = tail.littleEndian16(at: end + 10)
        var directorySize = tail.littleEndian32(at: end + 12)
        var directoryOffset = tail.littleEndian32(at: end + 16)
        var directoryLimit = endOffset
        if tail.littleEndian16(at: end + 4) != 0 || tail.littleEndian16(at: end + 6) != 0 {
            throw fail("is a multi-disk zip archive, which torch never writes")
        }
        if endOffset >= 20 {
            let locator = try bytes.read(endOffset - 20..<endOffset, name: name, what: "ZIP64 locator")
            if locator.littleEndian32(at: 0) == 0x0706_4B50 {
                guard let recordOffset = locator.littleEndian64(at: 8), recordOffset <= endOffset - 20 - 56 else {
                    throw fail("ZIP64 locator points outside the archive")
                }
                let record = try bytes.read(recordOffset..<recordOffset + 56, name: name, what: "ZIP64 end record")
                guard record.littleEndian32(at: 0) == 0x0606_4B50 else { throw fail("ZIP64 locator points to no ZIP64 end record") }
                guard let count = record.littleEndian64(at: 32), let length = record.littleEndian64(at: 40),
                      let offset = record.littleEndian64(at: 48) else {
                    throw fail("ZIP64 end record holds sizes beyond 2^63")
                }
                (entryCount, directorySize, directoryOffset, directoryLimit) = (count, length, offset, recordOffset)
            }
        }
        guard directoryOffset <= directoryLimit, directorySize <= directoryLimit - directoryOffset else {
            throw fail("central directory (\(directorySize) bytes at \(directoryOffset)) runs past its end record at \(directoryLimit) (truncated?)")
        }
        guard entryCount <= directorySize / 46 else {
            throw fail("claims \(entryCount) entries, more than its \(directorySize)-byte central directory can hold")
        }
        let directory = try bytes.read(directoryOffset..<directoryOffset + directorySize, name: name, what: "central directory")
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        var index: [String: Int] = [:]
        var position = 0
        for number in 0..<entryCount {
            guard position + 46 <= directory.count, directory.littleEndian32(at: position) == 0x0201_4B50 else {
                throw fail("central directory entry \(number) is malformed (no signature at byte \(directoryOffset + position))")
            }
            let nameLength = directory.littleEndian16(at: position + 28)
            let extraLength = directory.littleEndian16(at: position + 30)
            let commentLength = directory.littleEndian16(at: position + 32)
            let next = position + 46 + nameLength + extraLength + commentLength
            guard next <= directory.count else { throw fail("central directory entry \(number) runs past the directory's end") }
            let entryName = String(decoding: directory[position + 46..<position + 46 + nameLength], as: UTF8.self)
            var compressedSize = directory.littleEndian32(at: position + 20)
            var size = directory.littleEndian32(at: position + 24)
            var localOffset = directory.littleEndian32(at: position + 42)
            if directory.littleEndian16(at: position + 34) != 0 && directory.littleEndian16(at: position + 34) != 0xFFFF {
                throw fail("entry '\(entryName)' lies on another disk of a multi-disk archive")
            }
            let extra = Array(directory[position + 46 + nameLength..<position + 46 + nameLength + extraLength])
            try Self.applyZip64(extra, to: &size, &compressedSize, &localOffset, entry: entryName, fail: fail)
            guard index[entryName] == nil else { throw fail("holds two entries named '\(entryName)'") }
            index[entryName] = entries.count
            entries.append(Entry(name: entryName, method: directory.littleEndian16(at: position + 10),
                                 flags: directory.littleEndian16(at: position + 8), crc32: UInt32(directory.littleEndian32(at: position + 16)),
                                 compressedSize: compressedSize, size: size, localHeaderOffset: localOffset))
            position = next
        }
        self.entries = entries
        self.index = index
        self.centralDirectoryOffset = directoryOffset
    }

    /// Replaces saturated 32-bit fields (0xFFFFFFFF) with the ZIP64 extra field's 64-bit values,
    /// which appear in the order size, compressed size, local header offset.
    private static func applyZip64(_ extra: [UInt8], to size: inout Int, _ compressedSize: inout Int, _ localOffset: inout Int,
                                   entry: String, fail: (String) -> SafetensorsError) throws(SafetensorsError) {
        guard size == 0xFFFF_FFFF || compressedSize == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF else { return }
        var position = 0
        while position + 4 <= extra.count {
            let tag = extra.littleEndian16(at: position)
            let length = extra.littleEndian16(at: position + 2)
            guard position + 4 + length <= extra.count else { break }
            if tag == 0x0001 {
                var field = position + 4
                for value in [0, 1, 2] {
                    let saturated = [size, compressedSize, localOffset][value] == 0xFFFF_FFFF
                    guard saturated else { continue }
                    guard field + 8 <= position + 4 + length, let wide = extra.littleEndian64(at: field) else {
                        throw fail("entry '\(entry)': ZIP64 extra field is too short or holds a size beyond 2^63")
                    }
                    switch value {
                    case 0: size = wide
                    case 1: compressedSize = wide
                    default: localOffset = wide
                    }
                    field += 8
                }
                return
            }
            position += 4 + length
        }
        throw fail("entry '\(entry)': a size or offset is 0xFFFFFFFF but there is no ZIP64 extra field")
    }

    /// The entry named `name`, or nil.
    public func entry(named name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    /// Where `entry`'s bytes lie in the archive. Checks the local header (signature, same name),
    /// that the data is stored (method 0, not encrypted, compressed size = size) and that it ends
    /// before the central directory. Cost: one read of 30 bytes + the name.
    public func dataRange(of entry: Entry) throws(SafetensorsError) -> Range<Int> {
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(file: name, "entry '\(entry.name)': \(message)") }
        guard entry.method == 0 else {
            throw fail("is compressed (method \(entry.method)); torch.save stores entries uncompressed, re-save the checkpoint with torch.save")
        }
        guard entry.flags & 1 == 0 else { throw fail("is encrypted") }
        guard entry.compressedSize == entry.size else {
            throw fail("is stored but its compressed size \(entry.compressedSize) differs from its size \(entry.size)")
        }
        let nameBytes = Array(entry.name.utf8)
        guard entry.localHeaderOffset <= centralDirectoryOffset - 30 - nameBytes.count else {
            throw fail("local header offset \(entry.localHeaderOffset) lies past the central directory")
        }
        let header = try bytes.read(entry.localHeaderOffset..<entry.localHeaderOffset + 30 + nameBytes.count, name: name,
                                    what: "local header of '\(entry.name)'")
        guard header.littleEndian32(at: 0) == 0x0403_4B50 else { throw fail("has no local header at byte \(entry.localHeaderOffset)") }
        guard header.littleEndian16(at: 26) == nameBytes.count, Array(header[30...]) == nameBytes else {
            throw fail("local header names another entry")
        }
        let start = entry.localHeaderOffset + 30 + nameBytes.count + header.littleEndian16(at: 28)
        guard start <= centralDirectoryOffset, entry.size <= centralDirectoryOffset - start else {
            throw fail("data (\(entry.size) bytes at \(start)) runs into the central directory at \(centralDirectoryOffset)")
        }
        return start..<start + entry.size
    }

    /// `entry`'s bytes, checked against its CRC-32; larger than `limit` is an error.
    public func contents(of entry: Entry, limit: Int) throws(SafetensorsError) -> [UInt8] {
        guard entry.size <= limit else {
            throw SafetensorsError(file: name, "entry '\(entry.name)' is \(entry.size) bytes, over the \(limit)-byte limit")
        }
        let data = try bytes.read(try dataRange(of: entry), name: name, what: "entry '\(entry.name)'")
        guard CRC32.checksum(data) == entry.crc32 else {
            throw SafetensorsError(file: name, "entry '\(entry.name)' fails its CRC-32 check (corrupted)")
        }
        return data
    }
}
