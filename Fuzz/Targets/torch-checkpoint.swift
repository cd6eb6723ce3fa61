#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import IsoMerge

/// PyTorch checkpoints, read as `PyTorchCheckpoint.tensorFile` reads a `.pt` file (`ZipArchive`,
/// here from memory, `tensorEntries` with the default limits, then `SafetensorsFile.rawBytes`).
/// The input is the `data.pkl` of a torch archive written here around it: one stored record
/// `archive/data/<key>` per storage key the pickle declares, as large as its first declaration
/// says (up to 4 KiB each, 64 KiB in all; a larger one is left out, which the reader must
/// refuse), filled with a byte pattern, then `archive/byteorder`. The archive is read once
/// declared little-endian and once big-endian.
///
/// Invariants: both byte orders give the same verdict, and accepted, the same tensor table;
/// the table names exactly the tensors `StateDictNaming` finds in the pickle, in its order, with
/// their dtypes and shapes; each tensor holds numel × element size bytes, at most the stated
/// per-tensor bound; a tensor read as a byte range lies inside its own storage record, and a
/// gathered one (strided, or big-endian) reads a span that lies inside it. Every tensor no larger
/// than the archive reads back exactly the elements its offset, shape and strides select from
/// its storage (gathered here independently, each element's bytes reversed when big-endian).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        let limits = PickleLimits()
        guard let graph = try? Pickle.parse(bytes: bytes, limits: limits, name: "fuzz.pt") else { return }
        let named = try? StateDictNaming.tensors(in: graph, key: nil, file: "fuzz.pt", limits: limits)
        var verdicts: [String] = []
        var tables: [[TensorEntry]] = []
        for bigEndian in [false, true] {
            let archive = TorchArchive(pickle: bytes, graph: graph, bigEndian: bigEndian)
            let reader: ZipArchive
            do {
                reader = try ZipArchive(bytes: archive.bytes, name: "fuzz.pt")
            } catch {
                require(false, "the target's archive is rejected: \(error)")
                return
            }
            let entries: [TensorEntry], gathered: [String: GatheredTensor]
            do throws(SafetensorsError) {
                (entries, gathered) = try PyTorchCheckpoint.tensorEntries(reader, fileSize: archive.bytes.count, key: nil, limits: limits)
            } catch {
                verdicts.append(error.description)
                continue
            }
            verdicts.append("accepted")
            tables.append(entries)
            guard let named else {
                require(false, "accepted although StateDictNaming rejects the pickle")
                return
            }
            require(entries.map(\.name) == named.map(\.name), "the table's names differ from StateDictNaming's")
            let fd = open(FuzzScratch.store("fuzz.pt", archive.bytes), O_RDONLY | O_CLOEXEC)
            require(fd >= 0, "cannot open the scratch archive")
            let file = SafetensorsFile(path: "fuzz.pt", descriptor: fd, entries: entries, gathered: gathered)
            for (entry, (name, tensor)) in zip(entries, named) {
                checkTensor(entry, tensor, gathered: gathered[name], in: archive, file: file)
            }
        }
        require(verdicts[0] == verdicts[1], "little- and big-endian archives differ: \(verdicts[0]) / \(verdicts[1])")
        require(tables.count != 2 || tables[0] == tables[1], "little- and big-endian archives give different tables")
    }
}

/// One accepted tensor against its storage record and the bytes the target wrote there.
func checkTensor(_ entry: TensorEntry, _ tensor: TorchTensorReference, gathered: GatheredTensor?, in archive: TorchArchive,
                 file: SafetensorsFile) {
    let name = entry.name, elementSize = tensor.dtype.bits / 8
    require(entry.dtype == tensor.dtype && entry.shape == tensor.shape, "'\(name)': the table's dtype or shape differs from the pickle's")
    require(entry.byteCount == tensor.elementCount * elementSize, "'\(name)': \(entry.byteCount) bytes for \(tensor.elementCount) elements")
    require(entry.byteCount <= PyTorchCheckpoint.maximumTensorBytes(fileSize: archive.bytes.count), "'\(name)' exceeds the tensor bound")
    guard let record = archive.records[tensor.storage.key] else {
        require(false, "'\(name)' accepted without its storage record '\(tensor.storage.key)'")
        return
    }
    require(record.count == tensor.storage.byteCount, "'\(name)': a \(record.count)-byte record for a \(tensor.storage.byteCount)-byte storage")
    if let gathered {
        let span = record.lowerBound + gathered.storageOffset * elementSize..<record.lowerBound + (gathered.highestElement + 1) * elementSize
        require(gathered.storageStart == record.lowerBound && gathered.elementSize == elementSize, "'\(name)' gathers from elsewhere")
        require(gathered.byteSwapped == (archive.bigEndian && elementSize > 1), "'\(name)': wrong byte order")
        require(span.lowerBound < span.upperBound && record.contains(span.lowerBound) && span.upperBound <= record.upperBound,
                "'\(name)' gathers bytes \(span) outside its storage record \(record)")
    } else {
        require(!(archive.bigEndian && elementSize > 1 && tensor.elementCount > 0), "'\(name)': a big-endian tensor read as a byte range")
        require(entry.dataOffsets.lowerBound >= record.lowerBound && entry.dataOffsets.upperBound <= record.upperBound,
                "'\(name)' at bytes \(entry.dataOffsets), outside its storage record \(record)")
    }
    guard entry.byteCount <= archive.bytes.count else { return }
    do {
        let read = try file.rawBytes(of: entry)
        require(read == referenceGather(tensor, from: archive, record: record), "'\(name)' reads other bytes than its view selects")
        if entry.dtype.isConvertibleFloat {
            let values = try file.values(of: entry, as: Float.self)
            require(values.count == tensor.elementCount, "'\(name)' converts to \(values.count) values, not \(tensor.elementCount)")
        }
    } catch {
        require(false, "accepted tensor '\(name)' cannot be read: \(error)")
    }
}

/// The elements of `tensor` in row-major order, each at storage index offset + Σ index × stride,
/// bytes reversed in a big-endian archive.
func referenceGather(_ tensor: TorchTensorReference, from archive: TorchArchive, record: Range<Int>) -> [UInt8] {
    let elementSize = tensor.dtype.bits / 8
    var result: [UInt8] = []
    result.reserveCapacity(tensor.elementCount * elementSize)
    var index = [Int](repeating: 0, count: tensor.shape.count)
    for _ in 0..<tensor.elementCount {
        let element = tensor.storageOffset + zip(index, tensor.strides).reduce(0) { $0 + $1.0 * $1.1 }
        let bytes = archive.bytes[record.lowerBound + element * elementSize..<record.lowerBound + (element + 1) * elementSize]
        result += archive.bigEndian ? Array(bytes.reversed()) : Array(bytes)
        var dimension = index.count - 1
        while dimension >= 0 {
            index[dimension] += 1
            if index[dimension] < tensor.shape[dimension] { break }
            index[dimension] = 0
            dimension -= 1
        }
    }
    return result
}

/// A torch.save archive around a pickle: stored entries `archive/data.pkl`, `archive/data/<key>`
/// per declared storage (see the target) and `archive/byteorder`, a central directory and an
/// end record; `records` maps each written storage key to its data's byte range.
struct TorchArchive {
    let bigEndian: Bool
    private(set) var bytes: [UInt8] = []
    private(set) var records: [String: Range<Int>] = [:]

    init(pickle: [UInt8], graph: PickleGraph, bigEndian: Bool) {
        self.bigEndian = bigEndian
        var directory: [UInt8] = [], count = 0, budget = 64 << 10
        func field(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func add(_ name: String, _ data: [UInt8]) -> Range<Int> {
            let name = Array(name.utf8), offset = bytes.count, crc = Int(CRC32.checksum(data))
            let common = field(20, 2) + field(0, 2) + field(0, 2) + field(0, 4) + field(crc, 4) + field(data.count, 4) + field(data.count, 4)
                + field(name.count, 2) + field(0, 2)
            bytes += field(0x0403_4B50, 4) + common + name + data
            directory += field(0x0201_4B50, 4) + field(20, 2) + common + field(0, 10) + field(offset, 4) + name
            count += 1
            return bytes.count - data.count..<bytes.count
        }
        _ = add("archive/data.pkl", pickle)
        for case let .storage(storage) in graph.nodes
        where records[storage.key] == nil && storage.byteCount <= min(4096, budget) && storage.key.utf8.count <= 0xFF00 {
            budget -= storage.byteCount
            let data = (0..<storage.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ records.count &* 7 &+ 1) }
            records[storage.key] = add("archive/data/" + storage.key, data)
        }
        // Last, so that both byte orders put every other entry at the same offsets.
        _ = add("archive/byteorder", Array((bigEndian ? "big" : "little").utf8))
        // The big-endian archive's end record carries a 3-byte comment, so that both archives have
        // the same size (the per-tensor bound, and its error message, depend on it).
        let directoryOffset = bytes.count, comment = bigEndian ? Array("pad".utf8) : []
        bytes += directory + field(0x0605_4B50, 4) + field(0, 4) + field(count, 2) + field(count, 2) + field(directory.count, 4)
            + field(directoryOffset, 4) + field(comment.count, 2) + comment
    }
}
