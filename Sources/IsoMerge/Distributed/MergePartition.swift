/// How a directory checkpoint is split into parts that separate processes (or machines) write:
/// by whole shards, each owned by one part.
///
/// The shards are exactly the one-process merge's with the same `--shard-size`
/// (`CheckpointWriter.shardGroups`: greedy fill in file order), so a part's files are the bytes
/// that merge writes. Shards go to parts by longest processing time first: in order of
/// decreasing estimated cost (`TensorCost`; ties by shard number), each to the part with the
/// least cost so far (ties: the lowest part number). Deterministic: every process computes the
/// same partition from the same plan and settings. The busiest part costs at most 4/3 of the
/// best possible assignment of these shards, and never less than the costliest shard — the
/// critical path, which a smaller shard size shortens. Cost: O(S log S + S·N) for S shards.
public struct MergePartition: Sendable {
    /// One file of the output.
    public struct Shard: Sendable {
        /// Its file name in the output directory (`model-0000k-of-0000M.safetensors`).
        public let name: String
        /// Its tensors, in file order.
        public let tensors: [TensorSpec]
        /// The estimated cost of merging and writing its tensors (`TensorCost`).
        public let cost: Int
        /// The part (1…`parts`) that writes it.
        public let part: Int
    }

    /// The shards, in file order.
    public let shards: [Shard]
    /// The number of parts.
    public let parts: Int

    /// Splits `order` (every output tensor, in file order) into shards of at most
    /// `maximumShardBytes` and those among `parts` parts; `cost` estimates one tensor.
    /// Throws when the output would be a single file: a split output is a sharded checkpoint.
    public init(order: [TensorSpec], maximumShardBytes: Int, parts: Int, cost: (TensorSpec) -> Int) throws(MergeError) {
        precondition(parts >= 1, "a merge has at least one part")
        let groups = CheckpointWriter.shardGroups(order, maximumShardBytes: maximumShardBytes)
        guard groups.count >= 2 else {
            let total = order.reduce(0) { $0 + $1.byteCount }
            throw MergeError("the output (\(total) bytes) fits one shard of \(maximumShardBytes) bytes, so it would be one file, "
                             + "model.safetensors, which one part writes alone; a split merge writes a sharded checkpoint: "
                             + "give a --shard-size below \(total)")
        }
        let costs = groups.map { $0.reduce(0) { $0 + cost($1) } }
        var owner = [Int](repeating: 0, count: groups.count)
        var load = [Int](repeating: 0, count: parts)
        for shard in groups.indices.sorted(by: { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }) {
            let part = load.indices.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 }!
            owner[shard] = part + 1
            load[part] += costs[shard]
        }
        shards = groups.indices.map { index in
            Shard(name: CheckpointWriter.shardName(index + 1, of: groups.count), tensors: groups[index], cost: costs[index],
                  part: owner[index])
        }
        self.parts = parts
    }

    /// The shards part `part` (1…`parts`) writes, in file order.
    public func shards(of part: Int) -> [Shard] {
        shards.filter { $0.part == part }
    }

    /// The estimated cost of part `part`.
    public func cost(of part: Int) -> Int {
        shards(of: part).reduce(0) { $0 + $1.cost }
    }
}
