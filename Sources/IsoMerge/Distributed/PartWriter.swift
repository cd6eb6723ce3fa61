#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Linalg

/// Writes one part of a split merge (`MergePartition`): the part's shard files, straight into
/// the shared output directory, then its record (`PartRecord`).
///
/// The directory is never replaced as a whole, as a one-process merge's is, because the other
/// parts fill it at the same time; instead every file appears atomically on its own. Each shard
/// is written under a temporary name beside its final one (`SafetensorsWriter`); `finish()`
/// checks that every tensor was written and is finite, renames all the part's shards into place,
/// and only then writes the record, the mark that the part completed. A rerun of a part replaces
/// its own shard files; its old record is removed first, so a rerun that dies does not pass for
/// complete. Before writing, the dead processes' temporaries of this part's files are removed
/// (`StaleTemporaries`; other parts' are theirs to sweep). A failure or `abandon()` removes the
/// temporaries and any shard this run already published. The directory is made if missing (its
/// parent must exist); `OutputTarget.check(shared:inputs:)` has the rules for what it may already hold.
public final class PartWriter: CheckpointOutput {
    /// The output directory as given.
    public let directory: String
    public let order: [TensorSpec]
    private let location: String
    /// The shard files this part writes, in file order.
    private let names: [String]
    private let shards: ShardSequence
    private let record: (part: Int, parts: Int, fingerprint: PartFingerprint)
    private var published: [String] = []

    /// Plans part `part` of `partition` in `directory` (checked for a run reading `inputs`).
    public init(directory: String, partition: MergePartition, part: Int, fingerprint: PartFingerprint,
                metadata: [String: String], overwrite: Bool, inputs: [Checkpoint]) throws(SafetensorsError) {
        let target = OutputTarget(directory)
        guard target.kind == .directory else {
            throw SafetensorsError(file: directory, "a merge split into parts writes a sharded checkpoint: give a directory, "
                                   + "not a .safetensors file path")
        }
        try target.check(shared: overwrite, inputs: inputs)
        location = try target.location()
        if mkdir(location, 0o777) != 0 && errno != EEXIST {
            throw SafetensorsError(file: directory, "cannot create the output directory: \(systemError())")
        }
        if overwrite {
            for name in ["model.safetensors", CheckpointWriter.indexName] { unlink(location + "/" + name) }
        }
        let recordName = PartRecord.fileName(part: part, of: partition.parts)
        if unlink(location + "/" + recordName) != 0 && errno != ENOENT {
            throw SafetensorsError(file: directory + "/" + recordName, "cannot remove the earlier run's record: \(systemError())")
        }
        self.directory = target.path
        let owned = partition.shards(of: part)
        names = owned.map(\.name)
        order = owned.flatMap(\.tensors)
        shards = ShardSequence(owned.map { (target.path + "/" + $0.name, $0.tensors) }, destination: target.path,
                               metadata: metadata, overwrite: true)
        record = (part, partition.parts, fingerprint)
        StaleTemporaries.sweep(directory: location, standingInFor: Set(names + [recordName]))
    }

    deinit {
        abandon()
    }

    /// The part's shard files.
    public var outputPaths: [String] { shards.shards.map(\.path) }

    public func write<T: LinalgScalar>(_ name: String, values: UnsafeBufferPointer<T>) throws(SafetensorsError) {
        try shards.writer(for: name).write(name, values: values)
    }

    public func write(_ name: String, count: Int, produce: (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) throws(SafetensorsError) {
        try shards.writer(for: name).write(name, count: count, produce: produce)
    }

    public func write(_ name: String, bytes: UnsafeRawBufferPointer) throws(SafetensorsError) {
        try shards.writer(for: name).write(name, bytes: bytes)
    }

    /// Publishes the part's shards, then its record. Throws (leaving no shard of this run and no
    /// record) if a tensor was not written, a value would be NaN or infinite, or a write fails.
    public func finish() throws(SafetensorsError) {
        do throws(SafetensorsError) {
            var stamps: [(file: String, stamp: FileStamp)] = []
            for (name, writer) in zip(names, try shards.sealed()) {
                try writer.finish()
                published.append(writer.path)
                guard let stamp = FileStamp(path: writer.path) else {
                    throw SafetensorsError(file: writer.path, "vanished right after it was written")
                }
                stamps.append((name, stamp))
            }
            try PartRecord(part: record.part, parts: record.parts, fingerprint: record.fingerprint, shards: stamps).write(in: location)
            published = []
        } catch {
            abandon()
            throw error
        }
    }

    /// Gives up: removes every temporary and the shards this run published.
    public func abandon() {
        shards.abandon()
        for path in published { unlink(path) }
        published = []
    }
}
