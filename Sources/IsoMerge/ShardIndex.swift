/// A sharded checkpoint's index, `model.safetensors.index.json`:
/// `{"metadata": {...}, "weight_map": {tensor: shard file name}}`.
///
/// Parsing keeps `weight_map` in file order (its keys are unique: the JSON reader rejects
/// duplicates; every shard is a plain file name in the index's own directory, so an index cannot
/// make a reader open a file elsewhere, a device or a FIFO by path) and the string, number and boolean values of `metadata` (others are skipped);
/// any other top-level key is ignored. `serialized` writes what `json.dumps(index, indent=2,
/// sort_keys=True)` writes when the entries are sorted, and parsing it gives back an equal index.
/// Cost: linear in the text (plus a sort of the shard names); allocations are bounded by a small
/// multiple of the text's size.
struct ShardIndex: Equatable {
    /// Tensor name → shard file name, in the stored order.
    let weightMap: [(tensor: String, shard: String)]
    /// `metadata`'s scalar members (strings, numbers, booleans), in the stored order.
    let metadata: [(key: String, value: JSONValue)]

    init(weightMap: [(tensor: String, shard: String)], metadata: [(key: String, value: JSONValue)]) {
        self.weightMap = weightMap
        self.metadata = metadata
    }

    /// Parses and checks the index text `bytes` read from `file` (named in errors).
    init(bytes: [UInt8], file: String) throws(SafetensorsError) {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw SafetensorsError(file: file, "index is not valid JSON: \(error)")
        }
        guard case .object = root else { throw SafetensorsError(file: file, "index is \(root.kind), not a JSON object") }
        guard let weightMapValue = root["weight_map"], case let .object(mapping) = weightMapValue else {
            throw SafetensorsError(file: file, "index has no \"weight_map\" object")
        }
        var metadata: [(key: String, value: JSONValue)] = []
        if let meta = root["metadata"] {
            guard case let .object(members) = meta else {
                throw SafetensorsError(file: file, "index \"metadata\" is \(meta.kind), not an object")
            }
            for (key, value) in members {
                switch value {
                case .string, .number, .bool: metadata.append((key, value))
                default: break
                }
            }
        }
        var weightMap: [(tensor: String, shard: String)] = []
        for (tensor, value) in mapping {
            guard case let .string(shard) = value else {
                throw SafetensorsError(file: file, tensor: tensor, "weight_map value is \(value.kind), not a file name")
            }
            guard Self.isPlainFileName(shard) else {
                throw SafetensorsError(file: file, tensor: tensor,
                                       "weight_map value \(JSONValue.quote(shard)) is not a file name in the index's directory")
            }
            weightMap.append((tensor, shard))
        }
        self.weightMap = weightMap
        self.metadata = metadata
    }

    /// Whether `name` names a file in a directory without leaving it: non-empty, no `/`, no NUL,
    /// not `.` or `..`.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    /// The distinct shard file names, sorted.
    var shardNames: [String] { Set(weightMap.map(\.shard)).sorted() }

    /// `metadata` with every value as text: strings as they are, numbers and booleans as written.
    var metadataText: [(key: String, value: String)] {
        metadata.map { member in
            if case let .string(text) = member.value { return (member.key, text) }
            return (member.key, member.value.serialized)
        }
    }

    /// The index as JSON text indented by two spaces, entries in stored order, ending in a newline.
    var serialized: [UInt8] {
        func block(_ lines: [String]) -> String {
            lines.isEmpty ? "{}" : "{\n" + lines.map { "    " + $0 }.joined(separator: ",\n") + "\n  }"
        }
        let meta = block(metadata.map { "\(JSONValue.quote($0.key)): \($0.value.serialized)" })
        let map = block(weightMap.map { "\(JSONValue.quote($0.tensor)): \(JSONValue.quote($0.shard))" })
        return Array("{\n  \"metadata\": \(meta),\n  \"weight_map\": \(map)\n}\n".utf8)
    }

    static func == (lhs: ShardIndex, rhs: ShardIndex) -> Bool {
        lhs.weightMap.elementsEqual(rhs.weightMap) { $0.tensor == $1.tensor && $0.shard == $1.shard }
            && lhs.metadata.elementsEqual(rhs.metadata) { $0.key == $1.key && $0.value == $1.value }
    }
}
