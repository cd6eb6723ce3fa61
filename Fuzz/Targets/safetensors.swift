@testable import IsoMerge

/// Safetensors files (`SafetensorsFile`: the 8-byte length, the header JSON, the tensor table),
/// read from a scratch file exactly as the tool reads checkpoints.
///
/// Invariants for an accepted file: the tensors tile the data buffer, which ends at the end of
/// the file, so every accepted range lies inside the file; each range holds the bytes its dtype
/// and shape need; every tensor's bytes and (float types) values read back in full; and the
/// header re-encoded by the writer's encoder, followed by the same data buffer, is accepted with
/// equal entries and metadata and re-encodes to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        guard let file = try? SafetensorsFile(path: FuzzScratch.store("input.safetensors", bytes)) else { return }
        let header = file.header
        let dataStart = 8 + header.length
        var end = 0
        for entry in header.entries {
            let range = entry.dataOffsets
            require(range.lowerBound == end, "tensor '\(entry.name)' starts at \(range.lowerBound), not \(end)")
            require(dataStart + range.upperBound <= bytes.count, "tensor '\(entry.name)' ends past the file")
            require(entry.dtype.byteCount(elements: entry.elementCount) == entry.byteCount, "tensor '\(entry.name)' size mismatch")
            do {
                let raw = try file.rawBytes(of: entry)
                require(raw[...] == bytes[(dataStart + range.lowerBound)..<(dataStart + range.upperBound)],
                        "tensor '\(entry.name)' reads back different bytes")
                if entry.dtype.isConvertibleFloat {
                    let floats = try file.values(of: entry, as: Float.self)
                    let doubles = try file.values(of: entry, as: Double.self)
                    require(floats.count == entry.elementCount && doubles.count == entry.elementCount,
                            "tensor '\(entry.name)' converts to \(floats.count) values, not \(entry.elementCount)")
                }
            } catch {
                require(false, "accepted tensor '\(entry.name)' cannot be read: \(error)")
            }
            end = range.upperBound
        }
        require(dataStart + end == bytes.count, "tensors end at \(dataStart + end) in a \(bytes.count)-byte file")

        let encoded = SafetensorsHeader.encode(entries: header.entries, metadata: header.metadata)
        let reread: SafetensorsFile
        do {
            reread = try SafetensorsFile(path: FuzzScratch.store("encoded.safetensors", encoded + bytes[dataStart...]))
        } catch {
            require(false, "re-encoded header rejected: \(error)")
            return
        }
        require(reread.entries == header.entries, "re-encoded header gives different entries")
        require(reread.header.metadata.elementsEqual(header.metadata) { $0.key == $1.key && $0.value == $1.value },
                "re-encoded header gives different metadata")
        require(SafetensorsHeader.encode(entries: reread.entries, metadata: reread.header.metadata) == encoded,
                "header encoding is not a fixed point")
    }
}
