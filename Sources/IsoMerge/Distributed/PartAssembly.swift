#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The finishing step of a split merge: checks that every part of `partition` completed in
/// `directory` with the settings of this run, then writes the index — last, so that the
/// checkpoint is complete (loadable) only when every shard is in place and verified.
///
/// For each part it checks: its record (`PartRecord`) is there (else the part did not run, is
/// still running, failed or was killed); the record's fingerprint is this run's
/// (`PartFingerprint`, naming the settings that differ); the shards it lists are the ones the
/// partition gives it; and each shard exists, has the planned size and header (computed here
/// from the plan, not taken from the part), and the size and modification time the part
/// recorded (so a shard replaced or truncated afterwards is caught). Checkpoint files that are
/// not shards of this merge (left by an earlier run with other settings) are refused, or with
/// `overwrite` removed. Every problem is reported at once, each naming the part and the file.
/// On success the index is written atomically, then the records and dead processes'
/// temporaries are removed. Cost: a stat and one header read per shard; no tensor data is read.
public enum PartAssembly {
    /// Checks the parts and writes the index; returns the checkpoint's files, index last.
    public static func finish(directory: String, partition: MergePartition, fingerprint: PartFingerprint,
                              metadata: [String: String], overwrite: Bool) throws -> [String] {
        let target = OutputTarget(directory)
        guard target.kind == .directory, isDirectory(target.path) else {
            throw MergeError("\(directory): no such directory; its parts (--part 1/\(partition.parts) … "
                             + "\(partition.parts)/\(partition.parts)) write it before it is finished")
        }
        let location = try target.location()
        var problems: [String] = []
        for part in 1...partition.parts {
            problems += check(part: part, in: target.path, partition: partition, fingerprint: fingerprint, metadata: metadata)
        }
        let expected = Set(partition.shards.map(\.name))
        let strays = try entries(of: location).filter { OutputTarget.isCheckpointFile($0) && !expected.contains($0) && $0 != CheckpointWriter.indexName }
        if overwrite {
            for name in strays where unlink(location + "/" + name) != 0 {
                problems.append("\(target.path)/\(name): cannot remove this file of an earlier checkpoint: \(systemError())")
            }
        } else if !strays.isEmpty {
            problems.append("\(target.path) holds checkpoint files that are not shards of this merge (\(strays.sorted().joined(separator: ", "))), "
                            + "left by an earlier run with other settings; remove them, or allow overwriting")
        }
        guard problems.isEmpty else { throw MergeError(problems) }
        let files = partition.shards.map { (name: $0.name, tensors: $0.tensors) }
        try writeFileAtomically(path: target.path + "/" + CheckpointWriter.indexName,
                                bytes: CheckpointWriter.indexBytes(files: files, metadata: metadata), overwrite: true)
        for part in 1...partition.parts { unlink(location + "/" + PartRecord.fileName(part: part, of: partition.parts)) }
        StaleTemporaries.sweep(directory: location)
        syncDirectory(location)
        return (partition.shards.map(\.name) + [CheckpointWriter.indexName]).map { target.path + "/" + $0 }
    }

    /// What is wrong with part `part` in `directory` (nothing: it completed with these settings).
    static func check(part: Int, in directory: String, partition: MergePartition, fingerprint: PartFingerprint,
                      metadata: [String: String]) -> [String] {
        let parts = partition.parts
        let name = "part \(part) of \(parts)"
        let recordPath = directory + "/" + PartRecord.fileName(part: part, of: parts)
        let record: PartRecord
        do {
            guard let found = try PartRecord.load(recordPath) else {
                return ["\(name): not finished: \(recordPath) is missing (the part did not run, is still running, failed or was killed); "
                        + "run it (again) with --part \(part)/\(parts)"]
            }
            record = found
        } catch {
            return ["\(name): \(error)"]
        }
        guard record.part == part, record.parts == parts else {
            return ["\(name): \(recordPath) is the record of part \(record.part) of \(record.parts)"]
        }
        guard record.fingerprint == fingerprint else {
            let differences = fingerprint.differences(from: record.fingerprint)
            return ["\(name) was made with other inputs or settings (fingerprint \(record.fingerprint.hash), here \(fingerprint.hash)); "
                    + "it differs in " + differences.prefix(10).joined(separator: "; ")
                    + (differences.count > 10 ? "; and \(differences.count - 10) more" : "") + "; run it again with these settings"]
        }
        let shards = partition.shards(of: part)
        guard record.shards.map(\.file) == shards.map(\.name) else {
            return ["\(name): \(recordPath) lists the shards \(record.shards.map(\.file).joined(separator: ", ")), "
                    + "but the part writes \(shards.map(\.name).joined(separator: ", "))"]
        }
        var problems: [String] = []
        for (shard, recorded) in zip(shards, record.shards) {
            let path = directory + "/" + shard.name
            let header = SafetensorsWriter.headerBytes(order: shard.tensors, metadata: metadata)
            let size = header.count + shard.tensors.reduce(0) { $0 + $1.byteCount }
            guard let stamp = FileStamp(path: path) else {
                problems.append("\(path) (\(name)): missing, though the part recorded it; run the part again")
                continue
            }
            if stamp.bytes != size {
                problems.append("\(path) (\(name)): has \(stamp.bytes) bytes, the plan has \(size); run the part again")
            } else if stamp != recorded.stamp {
                problems.append("\(path) (\(name)): changed after the part finished (recorded \(recorded.stamp), now \(stamp)); run the part again")
            } else if prefix(of: path, count: header.count) != header {
                problems.append("\(path) (\(name)): its header is not the planned one; run the part again")
            }
        }
        return problems
    }

    /// The first `count` bytes of the file at `path` (fewer if it is shorter or unreadable).
    private static func prefix(of path: String, count: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(done)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            done += got
        }
        return Array(bytes[0..<done])
    }

    /// The names in `directory`.
    private static func entries(of directory: String) throws(SafetensorsError) -> [String] {
        guard let stream = opendir(directory) else { throw SafetensorsError(file: directory, "cannot list the directory: \(systemError())") }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
