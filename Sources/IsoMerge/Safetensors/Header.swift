/// One tensor's header entry: where its bytes lie in the data buffer and how to read them.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range relative to the start of the data buffer.
    public let dataOffsets: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dataOffsets.count }
}

/// A parsed and validated safetensors header.
///
/// Layout: an 8-byte little-endian length N, N bytes of UTF-8 JSON, then the data buffer. The
/// JSON maps tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}` and may hold a
/// `"__metadata__"` map of strings to strings. Validation enforces what the reference loader
/// enforces, plus unique names: sorted by offset, tensors tile the buffer exactly (start at 0,
/// no gaps, no overlap, nothing after the last), and each range holds exactly
/// numel × element size bytes, computed with overflow checks.
public struct SafetensorsHeader: Sendable {
    /// The largest header the reference loader accepts.
    public static let maximumLength = 100_000_000

    /// Tensors in data-buffer order.
    public let entries: [TensorEntry]
    /// `__metadata__`, in file order.
    public let metadata: [(key: String, value: String)]
    /// N: the JSON text's length in bytes (the data buffer starts at 8 + N).
    public let length: Int

    /// The entries of a file without a safetensors header (a PyTorch archive): no metadata, N = 0.
    init(entries: [TensorEntry]) {
        self.entries = entries
        metadata = []
        length = 0
    }

    /// Validates the JSON text `json` (the N header bytes) of a file of `fileSize` bytes.
    public init(json: [UInt8], fileSize: Int, file: String) throws(SafetensorsError) {
        length = json.count
        guard let first = json.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{")
        else {
            throw SafetensorsError(file: file, "header is not a JSON object (it must start with '{')")
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(json)
        } catch {
            throw SafetensorsError(file: file, "header is not valid JSON: \(error)")
        }
        guard case let .object(members) = root else {
            throw SafetensorsError(file: file, "header is \(root.kind), not a JSON object")
        }
        var metadata: [(key: String, value: String)] = []
        var entries: [TensorEntry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, file: file)
            } else {
                entries.append(try Self.parseEntry(name: name, value, file: file))
            }
        }
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var expectedStart = 0
        for entry in entries {
            if entry.dataOffsets.lowerBound != expectedStart {
                let problem = entry.dataOffsets.lowerBound > expectedStart
                    ? "leaves a gap (previous data ends at \(expectedStart))"
                    : "overlaps the previous tensor (which ends at \(expectedStart))"
                throw SafetensorsError(file: file, tensor: entry.name,
                                       "data_offsets [\(entry.dataOffsets.lowerBound), \(entry.dataOffsets.upperBound)] \(problem)")
            }
            expectedStart = entry.dataOffsets.upperBound
        }
        let bufferSize = fileSize - 8 - json.count
        if expectedStart != bufferSize {
            throw SafetensorsError(file: file, expectedStart < bufferSize
                ? "tensors cover \(expectedStart) bytes but the data buffer holds \(bufferSize) (trailing bytes)"
                : "tensors need \(expectedStart) bytes but the data buffer holds only \(bufferSize) (file truncated?)")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// The file's first 8 + N bytes for `entries` (their offsets as given, in the order given) and
    /// `metadata` (in the order given): the little-endian length N, then compact JSON with
    /// `__metadata__` first (omitted when empty), padded with spaces to a multiple of 8 bytes.
    /// Parsing the result (with the data buffer the entries tile) gives back `entries` sorted by
    /// offset and `metadata`. Cost: linear in the output.
    static func encode(entries: [TensorEntry], metadata: [(key: String, value: String)]) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.map { ($0.key, .string($0.value)) })))
        }
        for entry in entries {
            members.append((entry.name, .object([
                ("dtype", .string(entry.dtype.rawValue)),
                ("shape", .array(entry.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(entry.dataOffsets.lowerBound)),
                                         .number(String(entry.dataOffsets.upperBound))])),
            ])))
        }
        var json = Array(JSONValue.object(members).serialized.utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        let length = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + json
    }

    /// N, the JSON text's length, from a file's first 8 bytes (`prefix`, little-endian) and the
    /// file's size: at most `maximumLength` and inside the file, so that allocating N bytes is
    /// bounded by the file itself.
    static func jsonLength(prefix: [UInt8], fileSize: Int, file: String) throws(SafetensorsError) -> Int {
        precondition(prefix.count == 8, "jsonLength: the prefix is 8 bytes")
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(maximumLength) else {
            throw SafetensorsError(file: file, "header length \(length) exceeds the limit of \(maximumLength) bytes")
        }
        guard 8 + Int(length) <= fileSize else {
            throw SafetensorsError(file: file, "header length \(length) runs past the end of the \(fileSize)-byte file")
        }
        return Int(length)
    }

    static func parseMetadata(_ value: JSONValue, file: String) throws(SafetensorsError) -> [(key: String, value: String)] {
        guard case let .object(members) = value else {
            throw SafetensorsError(file: file, "__metadata__ is \(value.kind), not an object of strings")
        }
        var result: [(key: String, value: String)] = []
        for (key, item) in members {
            guard case let .string(text) = item else {
                throw SafetensorsError(file: file, "__metadata__ value for '\(key)' is \(item.kind), not a string")
            }
            result.append((key, text))
        }
        return result
    }

    static func parseEntry(name: String, _ value: JSONValue, file: String) throws(SafetensorsError) -> TensorEntry {
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(file: file, tensor: name, message) }
        guard case .object = value else { throw fail("entry is \(value.kind), not an object") }
        guard let dtypeValue = value["dtype"] else { throw fail("missing \"dtype\"") }
        guard case let .string(dtypeName) = dtypeValue else { throw fail("dtype is \(dtypeValue.kind), not a string") }
        guard let dtype = DType(rawValue: dtypeName) else { throw fail("unknown dtype '\(dtypeName)'") }
        guard let shapeValue = value["shape"] else { throw fail("missing \"shape\"") }
        guard case let .array(shapeItems) = shapeValue else { throw fail("shape is \(shapeValue.kind), not a list") }
        var shape: [Int] = []
        for item in shapeItems {
            guard let dimension = item.nonNegativeInteger else {
                throw fail("shape entry \(item.serialized) is not a non-negative integer")
            }
            shape.append(dimension)
        }
        guard let offsetsValue = value["data_offsets"] else { throw fail("missing \"data_offsets\"") }
        guard case let .array(offsetItems) = offsetsValue, offsetItems.count == 2 else {
            throw fail("data_offsets \(offsetsValue.serialized) is not a list of two offsets")
        }
        guard let begin = offsetItems[0].nonNegativeInteger, let end = offsetItems[1].nonNegativeInteger else {
            throw fail("data_offsets \(offsetsValue.serialized) are not non-negative integers")
        }
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] end before they begin") }
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            if overflow { throw fail("shape \(shape) has more elements than can be counted (overflow)") }
            elements = product
        }
        guard let needed = dtype.byteCount(elements: elements) else {
            throw fail("shape \(shape) of \(dtype.rawValue) does not fill a whole number of bytes or overflows")
        }
        if end - begin != needed {
            throw fail("data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}
