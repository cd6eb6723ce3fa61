#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a checkpoint written by `torch.save` (torch ≥ 1.6: a zip archive `<archive>/data.pkl`,
/// `<archive>/data/<key>` per storage, `<archive>/byteorder`) as a `SafetensorsFile`, so that
/// everything that reads safetensors reads it too, lazily and with positioned reads.
///
/// Opening reads the central directory and the pickle, never tensor data. The pickle is parsed by
/// `Pickle.parse` (nothing executed), its tensors named by `StateDictNaming`, and each tensor
/// checked against its storage record: the record must exist, be stored uncompressed and hold
/// exactly the bytes its persistent id declares; the view must stay inside it; a tensor may hold
/// at most as many bytes as the file or 64 MiB, whichever is more (a stride-0 view repeats
/// elements, and must not turn a small file into a huge allocation). A contiguous little-endian
/// tensor is then a plain byte range of the file; any other (a strided view, a big-endian
/// storage) is gathered when read.
enum PyTorchCheckpoint {
    /// What a file's first bytes say it is.
    enum Format {
        case safetensors, torchZip, legacyTorch
    }

    /// The format of the file at `path` (safetensors unless its first bytes say otherwise; an
    /// unreadable file is left to the safetensors reader to report).
    static func format(of path: String) -> Format {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .safetensors }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 512)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 512, 0) }
        guard count >= 4 else { return .safetensors }
        if head[0..<4] == [0x50, 0x4B, 0x03, 0x04] { return .torchZip }
        // torch < 1.6 (or _use_new_zipfile_serialization=False): a pickled magic number first;
        // torch < 0.4: a tar archive.
        if head[0] == 0x80 && head[1] <= 5 && head[2] == 0x8A { return .legacyTorch }
        if count >= 262 && Array(head[257..<262]) == Array("ustar".utf8) { return .legacyTorch }
        return .safetensors
    }

    /// The largest byte count one tensor may have in a file of `fileSize` bytes.
    static func maximumTensorBytes(fileSize: Int) -> Int { max(fileSize, 64 << 20) }

    /// Opens the torch archive at `path`, selecting the weights under `key` if given.
    static func tensorFile(path: String, key: String?, limits: PickleLimits = PickleLimits()) throws(SafetensorsError) -> SafetensorsFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafetensorsError(file: path, "cannot open: \(systemError())") }
        do throws(SafetensorsError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw SafetensorsError(file: path, "cannot stat: \(systemError())") }
            let size = Int(info.st_size)
            let archive = try ZipArchive(.file(descriptor: fd, size: size), name: path)
            let (entries, gathered) = try tensorEntries(archive, fileSize: size, key: key, limits: limits)
            return SafetensorsFile(path: path, descriptor: fd, entries: entries, gathered: gathered)
        } catch {
            close(fd)
            throw error
        }
    }

    /// The tensors of a parsed archive: entries (contiguous little-endian ones with their file
    /// range), and the gathered ones by name.
    static func tensorEntries(_ archive: ZipArchive, fileSize: Int, key: String?,
                              limits: PickleLimits) throws(SafetensorsError) -> ([TensorEntry], [String: GatheredTensor]) {
        let path = archive.name
        guard let first = archive.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw SafetensorsError(file: path, "is a zip archive but not a torch.save checkpoint (no <archive>/data.pkl)")
        }
        let prefix = String(first.name[...slash])
        guard let pickleEntry = archive.entry(named: prefix + "data.pkl") else {
            throw SafetensorsError(file: path, "is a zip archive but not a torch.save checkpoint (no \(prefix)data.pkl)")
        }
        var bigEndian = false
        if let order = archive.entry(named: prefix + "byteorder") {
            switch String(decoding: try archive.contents(of: order, limit: 16), as: UTF8.self) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            case let other: throw SafetensorsError(file: path, "byteorder is '\(other.prefix(16))', not 'little' or 'big'")
            }
        }
        let graph = try Pickle.parse(bytes: try archive.contents(of: pickleEntry, limit: limits.maximumBytes), limits: limits, name: path)
        var entries: [TensorEntry] = []
        var gathered: [String: GatheredTensor] = [:]
        var storages: [String: Range<Int>] = [:]
        for (name, tensor) in try StateDictNaming.tensors(in: graph, key: key, file: path, limits: limits) {
            func fail(_ message: String) -> SafetensorsError { SafetensorsError(file: path, tensor: name, message) }
            let storage = tensor.storage
            let range: Range<Int>
            if let known = storages[storage.key] {
                range = known
            } else {
                guard let record = archive.entry(named: prefix + "data/" + storage.key) else {
                    throw fail("its storage '\(storage.key)' (\(prefix)data/\(storage.key)) is not in the archive")
                }
                range = try archive.dataRange(of: record)
                storages[storage.key] = range
            }
            guard range.count == storage.byteCount else {
                throw fail("storage '\(storage.key)' holds \(range.count) bytes but the pickle declares \(storage.byteCount)")
            }
            let highest: Int?
            do {
                highest = try tensor.highestElement()
            } catch {
                throw fail(error.message)
            }
            guard tensor.byteCount <= maximumTensorBytes(fileSize: fileSize) else {
                throw fail("holds \(tensor.byteCount) bytes, more than the \(fileSize)-byte file could (a view repeating elements?)")
            }
            let elementSize = tensor.dtype.bits / 8
            let start = highest == nil ? range.lowerBound : range.lowerBound + tensor.storageOffset * elementSize
            entries.append(TensorEntry(name: name, dtype: tensor.dtype, shape: tensor.shape, dataOffsets: start..<start + tensor.byteCount))
            let swapped = bigEndian && elementSize > 1
            if let highest, swapped || !tensor.isContiguous {
                gathered[name] = GatheredTensor(storageStart: range.lowerBound, elementSize: elementSize, storageOffset: tensor.storageOffset,
                                                shape: tensor.shape, strides: tensor.strides, highestElement: highest,
                                                byteSwapped: swapped, elementCount: tensor.elementCount)
            }
        }
        return (entries, gathered)
    }
}

extension SafetensorsFile {
    /// The tensor file at `path`: a PyTorch checkpoint (told by its first bytes; weights under
    /// `key` if given) or a safetensors file. The legacy torch format is refused with the fix.
    static func opening(_ path: String, key: String?) throws(SafetensorsError) -> SafetensorsFile {
        switch PyTorchCheckpoint.format(of: path) {
        case .torchZip:
            return try PyTorchCheckpoint.tensorFile(path: path, key: key)
        case .legacyTorch:
            throw SafetensorsError(file: path, "is in the legacy torch.save format (torch < 1.6, or _use_new_zipfile_serialization=False), "
                                   + "which is not read; re-save it with torch ≥ 1.6: torch.save(torch.load(f), f)")
        case .safetensors:
            if key != nil {
                throw SafetensorsError(file: path, "is a safetensors file; a key selects weights inside a PyTorch checkpoint only")
            }
            return try SafetensorsFile(path: path)
        }
    }
}
