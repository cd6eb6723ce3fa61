@testable import IsoMerge

/// Shard indexes (`model.safetensors.index.json`): `ShardIndex` alone, then `Checkpoint` opening
/// the index beside two real shards (`model-00001-of-00002.safetensors` holding `a.weight`,
/// `model-00002-of-00002.safetensors` holding `b.weight` and `c.weight`).
///
/// Invariants: an accepted index serializes to text that parses back to an equal index and
/// serializes to the same bytes; its shard names are plain file names, sorted and distinct, and
/// cover every weight_map entry; a checkpoint opened from it holds exactly the weight_map's
/// tensors, each in the shard the index names, with the index's metadata.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        guard let index = try? ShardIndex(bytes: bytes, file: "index.json") else { return }
        let text = index.serialized
        do {
            let again = try ShardIndex(bytes: text, file: "serialized.json")
            require(again == index, "serialized index parses to a different index")
            require(again.serialized == text, "index serialization is not a fixed point")
        } catch {
            require(false, "serialized index rejected: \(error)")
        }
        let shards = index.shardNames
        require(zip(shards, shards.dropFirst()).allSatisfy { $0 < $1 }, "shard names not sorted and distinct")
        require(shards.allSatisfy(ShardIndex.isPlainFileName), "a shard name is not a plain file name")
        require(index.weightMap.allSatisfy { shards.contains($0.shard) }, "a weight_map shard is missing from shardNames")

        ShardFixture.prepare()
        guard let checkpoint = try? Checkpoint(path: FuzzScratch.store("model.safetensors.index.json", bytes)) else { return }
        require(checkpoint.tensors.count == index.weightMap.count, "checkpoint and weight_map differ in size")
        for (tensor, shard) in index.weightMap {
            guard let (file, _) = checkpoint.tensor(named: tensor) else { require(false, "'\(tensor)' missing"); return }
            require(file.path == FuzzScratch.directory + shard, "'\(tensor)' read from \(file.path), mapped to \(shard)")
        }
        require(checkpoint.metadata.elementsEqual(index.metadataText) { $0.key == $1.key && $0.value == $1.value },
                "checkpoint metadata differs from the index's")
    }
}

/// The two shards the index target's checkpoints open, written once into the scratch directory.
enum ShardFixture {
    nonisolated(unsafe) private static var written = false

    static func prepare() {
        guard !written else { return }
        written = true
        func shard(_ names: [String]) -> [UInt8] {
            let entries = names.enumerated().map {
                TensorEntry(name: $0.element, dtype: .f32, shape: [2], dataOffsets: (8 * $0.offset)..<(8 * $0.offset + 8))
            }
            return SafetensorsHeader.encode(entries: entries, metadata: [("format", "pt")]) + [UInt8](repeating: 0, count: 8 * names.count)
        }
        FuzzScratch.store("model-00001-of-00002.safetensors", shard(["a.weight"]))
        FuzzScratch.store("model-00002-of-00002.safetensors", shard(["b.weight", "c.weight"]))
    }
}
