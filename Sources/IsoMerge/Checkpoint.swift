#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// A model's tensors, from one safetensors file or from the shards of an index: tensor name →
/// (file, header entry). Only headers are read on opening; data is read per tensor on demand.
///
/// Accepted forms: a `.safetensors` file or a PyTorch checkpoint (`.pt`/`.bin`, told by its first
/// bytes; see `PyTorchCheckpoint`); a directory holding `model.safetensors`,
/// `model.safetensors.index.json`, `pytorch_model.bin` or `pytorch_model.bin.index.json` (first
/// found); or an index file `*.json` with `{"metadata": {...}, "weight_map": {tensor: shard file}}`,
/// shards being files beside it. Every tensor must live in exactly the shard the index names.
/// `key` selects the weights under that top-level key of PyTorch files.
public final class Checkpoint: @unchecked Sendable {
    /// The path as given.
    public let path: String
    /// The files the tensors live in (one, or the shards in name order).
    public let files: [SafetensorsFile]
    /// Every tensor, in file order (shard by shard).
    public let tensors: [(file: Int, entry: TensorEntry)]
    /// Metadata of the single file, or the string values of the index's "metadata".
    public let metadata: [(key: String, value: String)]
    /// Every file read: the index (if any), then the tensor files.
    public let sourceFiles: [String]
    private let index: [String: Int]

    public init(path: String, key: String? = nil) throws(SafetensorsError) {
        self.path = path
        var resolved = path
        if isDirectory(path) {
            let directory = path.hasSuffix("/") ? path : path + "/"
            let candidates = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]
            guard let found = candidates.first(where: { fileExists(directory + $0) }) else {
                throw SafetensorsError(file: path, "directory holds neither model.safetensors nor model.safetensors.index.json "
                                       + "nor pytorch_model.bin nor pytorch_model.bin.index.json")
            }
            resolved = directory + found
        }
        if resolved.hasSuffix(".json") {
            (files, metadata) = try Self.openShards(indexPath: resolved, key: key)
            sourceFiles = [resolved] + files.map(\.path)
        } else {
            let file = try SafetensorsFile.opening(resolved, key: key)
            files = [file]
            metadata = file.header.metadata
            sourceFiles = [resolved]
        }
        var tensors: [(file: Int, entry: TensorEntry)] = []
        var index: [String: Int] = [:]
        for (fileIndex, file) in files.enumerated() {
            for entry in file.entries {
                if let earlier = index[entry.name] {
                    throw SafetensorsError(file: path, tensor: entry.name,
                                           "appears in two shards: \(files[tensors[earlier].file].path) and \(file.path)")
                }
                index[entry.name] = tensors.count
                tensors.append((fileIndex, entry))
            }
        }
        self.tensors = tensors
        self.index = index
    }

    /// The entry and file of tensor `name`, or nil.
    public func tensor(named name: String) -> (file: SafetensorsFile, entry: TensorEntry)? {
        index[name].map { (files[tensors[$0].file], tensors[$0].entry) }
    }

    /// The value of metadata key `key`, or nil.
    public func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// Tensor `name` converted to `T`.
    public func values<T: LinalgScalar>(of name: String, as type: T.Type = T.self) throws(SafetensorsError) -> [T] {
        guard let (file, entry) = tensor(named: name) else { throw SafetensorsError(file: path, tensor: name, "no such tensor") }
        return try file.values(of: entry, as: type)
    }

    /// Tensor `name`'s stored bytes.
    public func rawBytes(of name: String) throws(SafetensorsError) -> [UInt8] {
        guard let (file, entry) = tensor(named: name) else { throw SafetensorsError(file: path, tensor: name, "no such tensor") }
        return try file.rawBytes(of: entry)
    }

    /// Opens the shards an index names and checks that each tensor is where the index says.
    static func openShards(indexPath: String, key: String?) throws(SafetensorsError) -> ([SafetensorsFile], [(key: String, value: String)]) {
        let index = try ShardIndex(bytes: readWholeFile(indexPath, limit: SafetensorsHeader.maximumLength), file: indexPath)
        let directory = indexPath.lastIndex(of: "/").map { String(indexPath[...$0]) } ?? ""
        var shardOf: [String: String] = [:]
        for (tensor, shard) in index.weightMap { shardOf[tensor] = shard }
        var files: [SafetensorsFile] = []
        var fileOf: [String: SafetensorsFile] = [:]
        for shard in index.shardNames {
            let file = try SafetensorsFile.opening(directory + shard, key: key)
            for entry in file.entries where shardOf[entry.name] != shard {
                if let other = shardOf[entry.name] {
                    throw SafetensorsError(file: indexPath, tensor: entry.name, "is in shard \(shard) but the index maps it to \(other)")
                }
                throw SafetensorsError(file: indexPath, tensor: entry.name, "is in shard \(shard) but missing from the index's weight_map")
            }
            files.append(file)
            fileOf[shard] = file
        }
        for (tensor, shard) in index.weightMap where fileOf[shard]?.entry(named: tensor) == nil {
            throw SafetensorsError(file: indexPath, tensor: tensor, "is mapped to shard \(shard), which does not contain it")
        }
        return (files, index.metadataText)
    }
}

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

func fileExists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}
