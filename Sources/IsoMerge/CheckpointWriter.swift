#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// Writes a checkpoint as one file or as shards with an index, streaming tensor by tensor.
///
/// Destination: a path ending in `.safetensors` is written as that one file; any other path is
/// a directory (created if missing) that receives `model.safetensors`, or, when a maximum shard
/// size is given and the tensors exceed it, `model-00001-of-0000N.safetensors`… plus
/// `model.safetensors.index.json` (`{"metadata": {"total_size": …}, "weight_map": {…}}`).
/// Shards are filled greedily in write order; a tensor larger than the limit gets a shard of
/// its own. Nothing appears at the destination until `finish()`, which renames every finished
/// shard into place and writes the index last.
public final class CheckpointWriter {
    public let destination: String
    /// Every tensor, in the order it must be written.
    public let order: [TensorSpec]
    private let shards: [(path: String, tensors: [TensorSpec])]
    private let metadata: [String: String]
    private let overwrite: Bool
    private var current: (shard: Int, writer: SafetensorsWriter)?
    private var sealed: [SafetensorsWriter] = []
    private let indexPath: String?
    /// The output directory, when this writer created it (removed again on abandon).
    private var createdDirectory: String?

    public init(destination: String, tensors: [TensorSpec], metadata: [String: String] = [:],
                maximumShardBytes: Int? = nil, overwrite: Bool = false) throws(SafetensorsError) {
        self.destination = destination
        self.metadata = metadata
        self.overwrite = overwrite
        order = SafetensorsWriter.fileOrder(tensors)
        if let limit = maximumShardBytes, limit <= 0 {
            throw SafetensorsError(file: destination, "maximum shard size must be positive, got \(limit)")
        }
        if destination.hasSuffix(".safetensors") {
            if maximumShardBytes != nil {
                throw SafetensorsError(file: destination, "sharded output needs a directory, not a .safetensors file path")
            }
            shards = [(destination, order)]
            indexPath = nil
        } else {
            if !isDirectory(destination) {
                guard mkdir(destination, 0o755) == 0 else {
                    throw SafetensorsError(file: destination, "cannot create the output directory: \(systemError())")
                }
                createdDirectory = destination
            }
            let directory = destination.hasSuffix("/") ? destination : destination + "/"
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
            if groups.count <= 1 {
                shards = [(directory + "model.safetensors", order)]
                indexPath = nil
            } else {
                let count = groups.count
                shards = groups.enumerated().map { i, group in
                    (directory + "model-\(Self.fiveDigits(i + 1))-of-\(Self.fiveDigits(count)).safetensors", group)
                }
                indexPath = directory + "model.safetensors.index.json"
            }
        }
        if !overwrite {
            for path in shards.map(\.path) + (indexPath.map { [$0] } ?? []) where fileExists(path) {
                throw SafetensorsError(file: path, "already exists (allow overwriting to replace it)")
            }
        }
    }

    deinit {
        if current != nil || !sealed.isEmpty { abandon() }
    }

    static func fiveDigits(_ n: Int) -> String {
        let text = String(n)
        return String(repeating: "0", count: max(0, 5 - text.count)) + text
    }

    /// The files this writer produces, index last.
    public var outputPaths: [String] { shards.map(\.path) + (indexPath.map { [$0] } ?? []) }

    /// Writes the next tensor from values converted to its planned dtype.
    public func write<T: LinalgScalar>(_ name: String, values: UnsafeBufferPointer<T>) throws(SafetensorsError) {
        try writer(for: name).write(name, values: values)
    }

    /// Writes the next tensor's stored bytes.
    public func write(_ name: String, bytes: UnsafeRawBufferPointer) throws(SafetensorsError) {
        try writer(for: name).write(name, bytes: bytes)
    }

    /// The shard writer that takes `name` next, opening the following shard when the current one is full.
    private func writer(for name: String) throws(SafetensorsError) -> SafetensorsWriter {
        if let current, current.writer.nextTensor != nil { return current.writer }
        let next = current.map { $0.shard + 1 } ?? 0
        if let current { sealed.append(current.writer) }
        guard next < shards.count else {
            throw SafetensorsError(file: destination, tensor: name, "all planned tensors were already written")
        }
        let writer = try SafetensorsWriter(path: shards[next].path, tensors: shards[next].tensors,
                                           metadata: metadata, overwrite: overwrite)
        current = (next, writer)
        return writer
    }

    /// Publishes every shard, then the index. Throws if a tensor was not written.
    public func finish() throws(SafetensorsError) {
        if let current { sealed.append(current.writer) }
        current = nil
        guard sealed.count == shards.count else {
            abandon()
            let missing = shards[sealed.count].tensors.first?.name
            throw SafetensorsError(file: destination, tensor: missing, "was never written")
        }
        for writer in sealed { try writer.finish() }
        sealed = []
        createdDirectory = nil
        if let indexPath {
            try writeIndex(to: indexPath)
        }
    }

    /// Gives up: removes every temporary file; nothing appears at the destination.
    public func abandon() {
        current?.writer.abandon()
        for writer in sealed { writer.abandon() }
        current = nil
        sealed = []
        if let createdDirectory { rmdir(createdDirectory) }
        createdDirectory = nil
    }

    /// The index, formatted as `json.dumps(index, indent=2, sort_keys=True)` formats it.
    private func writeIndex(to path: String) throws(SafetensorsError) {
        var meta = metadata.map { (key: $0.key, value: JSONValue.string($0.value)) }
        meta.append((key: "total_size", value: .number(String(order.reduce(0) { $0 + $1.byteCount }))))
        meta.sort { $0.key < $1.key }
        var weightMap: [(key: String, value: String)] = []
        for shard in shards {
            let file = shard.path.split(separator: "/").last.map(String.init) ?? shard.path
            for spec in shard.tensors { weightMap.append((spec.name, file)) }
        }
        weightMap.sort { $0.key < $1.key }
        var text = "{\n  \"metadata\": {\n"
        text += meta.map { "    \(JSONValue.quote($0.key)): \($0.value.serialized)" }.joined(separator: ",\n")
        text += "\n  },\n  \"weight_map\": {\n"
        text += weightMap.map { "    \(JSONValue.quote($0.key)): \(JSONValue.quote($0.value))" }.joined(separator: ",\n")
        text += "\n  }\n}\n"
        try writeFileAtomically(path: path, bytes: Array(text.utf8), overwrite: overwrite)
    }
}

/// Writes a small file through a temporary file, fsync and rename.
func writeFileAtomically(path: String, bytes: [UInt8], overwrite: Bool) throws(SafetensorsError) {
    if !overwrite && fileExists(path) { throw SafetensorsError(file: path, "already exists (allow overwriting to replace it)") }
    let (temporary, fd) = try createTemporaryFile(beside: path)
    var done = 0
    while done < bytes.count {
        let wrote = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
        if wrote < 0 && errno == EINTR { continue }
        if wrote <= 0 {
            let message = systemError()
            close(fd)
            unlink(temporary)
            throw SafetensorsError(file: path, "write failed: \(message)")
        }
        done += wrote
    }
    let synced = fsync(fd) == 0
    close(fd)
    if !synced || rename(temporary, path) != 0 {
        let message = systemError()
        unlink(temporary)
        throw SafetensorsError(file: path, "cannot write: \(message)")
    }
    syncDirectory(of: path)
}
