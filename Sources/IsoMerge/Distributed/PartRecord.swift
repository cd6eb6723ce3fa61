#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file a finished part leaves beside its shards, `.isomerge-part-I-of-N.json`: which part
/// it was, the fingerprint of its settings (`PartFingerprint`), and the stamp (size and
/// modification time) of every shard it published. Written atomically after all the part's shards
/// are in place, so its presence means the part completed; the finishing step reads and removes
/// it. A small JSON object:
/// `{"part": I, "parts": N, "fingerprint": "…", "settings": {…}, "shards": [{"file": …, "bytes": …, "modified_ns": …}]}`.
struct PartRecord {
    let part: Int
    let parts: Int
    let fingerprint: PartFingerprint
    /// Each shard's file name and its stamp when published.
    let shards: [(file: String, stamp: FileStamp)]

    init(part: Int, parts: Int, fingerprint: PartFingerprint, shards: [(file: String, stamp: FileStamp)]) {
        (self.part, self.parts, self.fingerprint, self.shards) = (part, parts, fingerprint, shards)
    }

    /// The record's file name for part `part` of `parts`.
    static func fileName(part: Int, of parts: Int) -> String {
        ".isomerge-part-\(part)-of-\(parts).json"
    }

    var json: [UInt8] {
        let object = JSONValue.object([
            ("part", .number(String(part))),
            ("parts", .number(String(parts))),
            ("fingerprint", .string(fingerprint.hash)),
            ("settings", .object(fingerprint.settings.keys.sorted().map { ($0, .string(fingerprint.settings[$0]!)) })),
            ("shards", .array(shards.map { shard in
                .object([("file", .string(shard.file)), ("bytes", .number(String(shard.stamp.bytes))),
                         ("modified_ns", .number(String(shard.stamp.modified)))])
            })),
        ])
        return Array((object.serialized + "\n").utf8)
    }

    /// Writes the record into `directory`, atomically (temporary file, fsync, rename).
    func write(in directory: String) throws(SafetensorsError) {
        try writeFileAtomically(path: directory + "/" + Self.fileName(part: part, of: parts), bytes: json, overwrite: true)
    }

    /// Reads the record at `path`: nil if there is none; throws naming the file if it is not one.
    static func load(_ path: String) throws(SafetensorsError) -> PartRecord? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw SafetensorsError(file: path, "cannot open the part record: \(systemError())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw SafetensorsError(file: path, "cannot read the part record: \(systemError())") }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= 64 << 20 else { throw SafetensorsError(file: path, "is not a part record (over 64 MiB)") }
        }
        func invalid(_ what: String) -> SafetensorsError { SafetensorsError(file: path, "is not a valid part record: \(what)") }
        let root: JSONValue
        do { root = try JSONValue.parse(bytes) } catch { throw invalid("\(error)") }
        guard let part = root["part"]?.nonNegativeInteger, let parts = root["parts"]?.nonNegativeInteger else {
            throw invalid("no part number")
        }
        guard case let .object(members)? = root["settings"] else { throw invalid("no settings") }
        var settings: [String: String] = [:]
        for (key, value) in members {
            guard case let .string(text) = value else { throw invalid("setting \"\(key)\" is not a string") }
            settings[key] = text
        }
        guard case let .array(items)? = root["shards"] else { throw invalid("no shard list") }
        var shards: [(file: String, stamp: FileStamp)] = []
        for item in items {
            guard case let .string(file)? = item["file"], let size = item["bytes"]?.nonNegativeInteger,
                  let modified = item["modified_ns"]?.nonNegativeInteger else { throw invalid("a shard without file, bytes or modified_ns") }
            shards.append((file, FileStamp(bytes: size, modified: modified)))
        }
        return PartRecord(part: part, parts: parts, fingerprint: PartFingerprint(settings: settings), shards: shards)
    }
}
