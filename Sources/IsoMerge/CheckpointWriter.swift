#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// Writes a checkpoint as one file or as shards with an index, streaming tensor by tensor.
///
/// Destination: a path ending in `.safetensors` is written as that one file; any other path is
/// a directory that receives `model.safetensors`, or, when a maximum shard size is given and the
/// tensors exceed it, `model-00001-of-0000N.safetensors`… plus `model.safetensors.index.json`
/// (`{"metadata": {"total_size": …}, "weight_map": {…}}`). Shards are filled greedily in write
/// order; a tensor larger than the limit gets a shard of its own.
///
/// Nothing appears at the destination until `finish()`, and then all of it at once: a file is
/// written under a temporary name beside it and renamed into place; a directory is written in
/// full into a new temporary directory beside it, which then takes the old one's place in one
/// exchange (`OutputTarget` has the rules: overwriting, inputs, what an old directory may hold).
/// Before writing, temporaries that dead processes left beside the destination are removed
/// (`StaleTemporaries`). A failure, `abandon()`, or values that would be NaN or infinite in the
/// output dtype leave the destination as it was and remove every temporary.
public final class CheckpointWriter: CheckpointOutput {
    public let destination: String
    /// Every tensor, in the order it must be written.
    public let order: [TensorSpec]
    private let target: OutputTarget
    /// Where each shard is written (inside `staging` for a directory) and the tensors it holds.
    private let shards: ShardSequence
    /// The file names inside the directory, for a directory destination.
    private let shardNames: [String]
    private let metadata: [String: String]
    private let overwrite: Bool
    private let indexName: String?
    /// The directory being filled, for a directory destination.
    private let staging: TemporaryDirectory?

    /// Plans the output and checks `OutputTarget`'s rules for a run that reads `inputs`.
    public init(destination: String, tensors: [TensorSpec], metadata: [String: String] = [:],
                maximumShardBytes: Int? = nil, overwrite: Bool = false, inputs: [Checkpoint] = []) throws(SafetensorsError) {
        self.destination = destination
        self.metadata = metadata
        self.overwrite = overwrite
        order = SafetensorsWriter.fileOrder(tensors)
        target = OutputTarget(destination)
        if let limit = maximumShardBytes, limit <= 0 {
            throw SafetensorsError(file: destination, "maximum shard size must be positive, got \(limit)")
        }
        if target.kind == .file && maximumShardBytes != nil {
            throw SafetensorsError(file: destination, "sharded output needs a directory, not a .safetensors file path")
        }
        try target.check(overwrite: overwrite, inputs: inputs)
        StaleTemporaries.sweep(directory: try target.temporariesDirectory())
        guard target.kind == .directory else {
            shards = ShardSequence([(destination, order)], destination: destination, metadata: metadata, overwrite: overwrite)
            shardNames = []
            indexName = nil
            staging = nil
            return
        }
        let groups = Self.shardGroups(order, maximumShardBytes: maximumShardBytes)
        if groups.count <= 1 {
            shardNames = ["model.safetensors"]
            indexName = nil
        } else {
            shardNames = groups.indices.map { Self.shardName($0 + 1, of: groups.count) }
            indexName = Self.indexName
        }
        let staging = try TemporaryDirectory(beside: try target.location())
        self.staging = staging
        shards = ShardSequence(zip(shardNames, groups).map { (staging.path + "/" + $0, $1) }, destination: destination,
                               metadata: metadata, overwrite: overwrite)
    }

    deinit {
        abandon()
    }

    static func fiveDigits(_ n: Int) -> String {
        let text = String(n)
        return String(repeating: "0", count: max(0, 5 - text.count)) + text
    }

    /// The index file of a sharded checkpoint directory.
    public static let indexName = "model.safetensors.index.json"

    /// `model-0000k-of-0000N.safetensors`, the k-th of N shards (1-based).
    public static func shardName(_ k: Int, of n: Int) -> String {
        "model-\(fiveDigits(k))-of-\(fiveDigits(n)).safetensors"
    }

    /// The tensors of each file of a directory checkpoint: `order` (file order) filled greedily
    /// into shards of at most `maximumShardBytes` (a larger tensor gets a shard of its own); one
    /// group, the whole order, without a limit. Cost: O(tensors).
    public static func shardGroups(_ order: [TensorSpec], maximumShardBytes: Int?) -> [[TensorSpec]] {
        var groups: [[TensorSpec]] = []
        var size = 0
        for spec in order {
            if let limit = maximumShardBytes, !groups.isEmpty, !groups[groups.count - 1].isEmpty,
               size + spec.byteCount > limit {
                groups.append([])
                size = 0
            }
            if groups.isEmpty { groups.append([]) }
            groups[groups.count - 1].append(spec)
            size += spec.byteCount
        }
        return groups.count <= 1 ? [order] : groups
    }

    /// The files this writer produces, index last.
    public var outputPaths: [String] {
        guard target.kind == .directory else { return [destination] }
        return (shardNames + (indexName.map { [$0] } ?? [])).map { target.path + "/" + $0 }
    }

    /// Writes the next tensor from values converted to its planned dtype.
    public func write<T: LinalgScalar>(_ name: String, values: UnsafeBufferPointer<T>) throws(SafetensorsError) {
        try namingTheOutput { () throws(SafetensorsError) in try shards.writer(for: name).write(name, values: values) }
    }

    /// Writes the next tensor from Double values computed a chunk at a time, each rounded once
    /// to its planned dtype (`SafetensorsWriter.write(_:count:produce:)`).
    public func write(_ name: String, count: Int,
                      produce: (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws(SafetensorsError) {
        try namingTheOutput { () throws(SafetensorsError) in try shards.writer(for: name).write(name, count: count, produce: produce) }
    }

    /// Writes the next tensor's stored bytes.
    public func write(_ name: String, bytes: UnsafeRawBufferPointer) throws(SafetensorsError) {
        try namingTheOutput { () throws(SafetensorsError) in try shards.writer(for: name).write(name, bytes: bytes) }
    }

    /// Runs `body`, reporting a file inside the staging directory by its name in the destination.
    private func namingTheOutput(_ body: () throws(SafetensorsError) -> Void) throws(SafetensorsError) {
        do {
            try body()
        } catch {
            guard let staging, error.file.hasPrefix(staging.path + "/") else { throw error }
            throw SafetensorsError(file: target.path + error.file.dropFirst(staging.path.count), tensor: error.tensor, error.message)
        }
    }

    /// Publishes the output: every shard and the index at once. Throws (leaving the destination
    /// as it was) if a tensor was not written or a value would be NaN or infinite.
    public func finish() throws(SafetensorsError) {
        let sealed: [SafetensorsWriter]
        do throws(SafetensorsError) { sealed = try shards.sealed() } catch {
            abandon()
            throw error
        }
        do throws(SafetensorsError) {
            try namingTheOutput { () throws(SafetensorsError) in for writer in sealed { try writer.finish() } }
            if let staging {
                if let indexName { try writeIndex(to: staging.path + "/" + indexName) }
                try target.publish(directory: staging, overwrite: overwrite)
            }
        } catch {
            abandon()
            throw error
        }
    }

    /// Gives up: removes every temporary file; nothing appears at the destination.
    public func abandon() {
        shards.abandon()
        staging?.remove()
    }

    private func writeIndex(to path: String) throws(SafetensorsError) {
        let files = shards.shards.map { (name: $0.path.split(separator: "/").last.map(String.init) ?? $0.path, tensors: $0.tensors) }
        try writeFileAtomically(path: path, bytes: Self.indexBytes(files: files, metadata: metadata), overwrite: false)
    }

    /// The index of a sharded checkpoint whose files hold `files`' tensors, formatted as
    /// `json.dumps(index, indent=2, sort_keys=True)` formats it: `metadata` plus `total_size`,
    /// and the weight map.
    static func indexBytes(files: [(name: String, tensors: [TensorSpec])], metadata: [String: String]) -> [UInt8] {
        var meta = metadata.map { (key: $0.key, value: JSONValue.string($0.value)) }
        meta.append((key: "total_size", value: .number(String(files.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.byteCount } }))))
        meta.sort { $0.key < $1.key }
        var weightMap: [(tensor: String, shard: String)] = []
        for file in files {
            for spec in file.tensors { weightMap.append((spec.name, file.name)) }
        }
        weightMap.sort { $0.tensor < $1.tensor }
        return ShardIndex(weightMap: weightMap, metadata: meta).serialized
    }
}

/// Writes a small file through a temporary file, fsync and rename (`OutputTarget`'s rules for a file).
func writeFileAtomically(path: String, bytes: [UInt8], overwrite: Bool) throws(SafetensorsError) {
    let target = OutputTarget(file: path)
    try target.check(overwrite: overwrite, inputs: [])
    let (temporary, fd) = try createTemporaryFile(beside: path)
    var done = 0
    while done < bytes.count {
        let wrote = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
        if wrote < 0 && errno == EINTR { continue }
        if wrote <= 0 {
            let message = systemError()
            close(fd)
            TemporaryRegistry.shared.remove(temporary)
            throw SafetensorsError(file: path, "write failed: \(message)")
        }
        done += wrote
    }
    let synced = fsync(fd) == 0
    let message = systemError()
    close(fd)
    guard synced else {
        TemporaryRegistry.shared.remove(temporary)
        throw SafetensorsError(file: path, "fsync failed: \(message)")
    }
    try target.publish(file: temporary, overwrite: overwrite)
}
