@testable import IsoMerge
import Linalg
import XCTest

final class SafetensorsWriterTests: XCTestCase {
    func ramp(_ count: Int, _ scale: Double, _ offset: Double) -> [Double] {
        (0..<count).map { Double($0) * scale + offset }
    }

    /// The same tensors and metadata as make.py's reference-writer.safetensors, byte for byte.
    func testByteIdenticalToTheReferenceWriter() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let path = directory + "/ours.safetensors"
        let specs = [
            TensorSpec(name: "layer.weight", dtype: .f32, shape: [3, 4]),
            TensorSpec(name: "layer.bias", dtype: .f16, shape: [4]),
            TensorSpec(name: "embed", dtype: .bf16, shape: [2, 3]),
            TensorSpec(name: "double", dtype: .f64, shape: [2]),
        ]
        let values: [String: [Double]] = [
            "layer.weight": ramp(12, 0.25, -1), "layer.bias": ramp(4, 0.5, 0), "embed": ramp(6, 0.125, -0.5),
            "double": ramp(2, 1.5, 1),
        ]
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: ["method": "iso_c"])
        XCTAssertEqual(writer.order.map(\.name), ["double", "layer.weight", "embed", "layer.bias"])
        for spec in writer.order {
            try values[spec.name]!.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
        try writer.finish()
        XCTAssertEqual(TestFiles.bytes(path), TestFiles.bytes(TestFiles.fixture("safetensors/reference-writer.safetensors")))
        XCTAssertEqual(TestFiles.listing(directory), ["ours.safetensors"])
    }

    /// Every float dtype, with scalar and empty shapes, reads back as written (rounded once).
    func testRoundTripEveryFloatDtype() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        var generator = SystemRandomNumberGenerator()
        let shapes: [[Int]] = [[], [0], [3, 0], [7], [5, 3], [2, 2, 2, 2]]
        for dtype in [DType.f64, .f32, .f16, .bf16] {
            let path = directory + "/\(dtype.rawValue).safetensors"
            // Names of different lengths move the header length through every residue mod 8.
            let specs = shapes.enumerated().map {
                TensorSpec(name: "t" + String(repeating: "x", count: $0.offset), dtype: dtype, shape: $0.element)
            }
            var written: [String: [Double]] = [:]
            let writer = try SafetensorsWriter(path: path, tensors: specs)
            for spec in writer.order {
                let values = (0..<spec.elementCount).map { _ in Double.random(in: -1000...1000, using: &generator) }
                written[spec.name] = values
                try values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
            }
            try writer.finish()
            let file = try SafetensorsFile(path: path)
            XCTAssertEqual(file.header.length % 8, 0, "header padded to a multiple of 8")
            XCTAssertEqual(TestFiles.bytes(path).count, 8 + file.header.length + specs.reduce(0) { $0 + $1.byteCount })
            for entry in file.entries {
                let expected: [Double] = written[entry.name]!.map { v in
                    switch dtype {
                    case .f64: return v
                    case .f32: return Double(Float(v))
                    case .f16: return Double(HalfPrecision.float(fromF16: HalfPrecision.f16Bits(from: Float(roundingToOdd: v))))
                    default: return Double(HalfPrecision.float(fromBF16: HalfPrecision.bf16Bits(from: Float(roundingToOdd: v))))
                    }
                }
                XCTAssertEqual(try file.values(of: entry, as: Double.self), expected, "\(dtype) \(entry.name)")
                XCTAssertEqual(entry.shape, specs.first { $0.name == entry.name }!.shape)
            }
        }
    }

    /// Values that are NaN or ±∞ as stored (an F16 overflow among them) are counted per tensor and
    /// refuse the file, naming each tensor; a sharded output is refused as a whole.
    func testNonFiniteValuesRefuseTheOutput() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let specs = [TensorSpec(name: "big", dtype: .f16, shape: [3]), TensorSpec(name: "nan", dtype: .f64, shape: [2]),
                     TensorSpec(name: "fine", dtype: .bf16, shape: [2])]
        let values: [String: [Double]] = ["big": [1, 70000, -1e6], "nan": [.nan, 0], "fine": [1, 2]]
        for (destination, shardSize) in [("one.safetensors", nil), ("sharded", 8)] as [(String, Int?)] {
            let writer = try CheckpointWriter(destination: directory + "/" + destination, tensors: specs, maximumShardBytes: shardSize)
            for spec in writer.order {
                try values[spec.name]!.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
            }
            XCTAssertThrowsError(try writer.finish()) { error in
                let text = String(describing: error)
                for fragment in ["'big' (2 values as F16)", "'nan' (1 value as F64)", "2 tensors would hold NaN or infinity"] {
                    XCTAssertTrue(text.contains(fragment), text)
                }
                XCTAssertFalse(text.contains("'fine'"), text)
            }
            XCTAssertEqual(TestFiles.listing(directory), [], destination)
        }
    }

    func testAtomicityAndOverwrite() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let path = directory + "/out.safetensors"
        let specs = [TensorSpec(name: "a", dtype: .f32, shape: [2]), TensorSpec(name: "b", dtype: .f32, shape: [1])]
        // Abandoned and failed writers leave nothing behind.
        do {
            let writer = try SafetensorsWriter(path: path, tensors: specs)
            try [Float(1), 2].withUnsafeBufferPointer { try writer.write("a", values: $0) }
            writer.abandon()
        }
        XCTAssertEqual(TestFiles.listing(directory), [])
        do {
            let writer = try SafetensorsWriter(path: path, tensors: specs)
            XCTAssertSafetensorsError(["tensor 'b'", "out of order", "'a'"]) {
                try [Float(1)].withUnsafeBufferPointer { try writer.write("b", values: $0) }
            }
            XCTAssertSafetensorsError(["tensor 'a'", "never written"]) { try writer.finish() }
        }
        XCTAssertEqual(TestFiles.listing(directory), [])
        // An existing file is untouched unless overwriting is allowed.
        _ = FileManager.default.createFile(atPath: path, contents: Data("keep".utf8))
        XCTAssertSafetensorsError(["out.safetensors", "already exists"]) { _ = try SafetensorsWriter(path: path, tensors: specs) }
        XCTAssertEqual(TestFiles.bytes(path), Array("keep".utf8))
        let writer = try SafetensorsWriter(path: path, tensors: specs, overwrite: true)
        try [Float(1), 2].withUnsafeBufferPointer { try writer.write("a", values: $0) }
        XCTAssertEqual(TestFiles.bytes(path), Array("keep".utf8), "the target changes only at finish()")
        try [Float(3)].withUnsafeBufferPointer { try writer.write("b", values: $0) }
        try writer.finish()
        XCTAssertEqual(try SafetensorsFile(path: path).entries.count, 2)
        XCTAssertEqual(TestFiles.listing(directory), ["out.safetensors"])
        XCTAssertSafetensorsError(["cannot create"]) { _ = try SafetensorsWriter(path: directory + "/no/such/dir/x.safetensors", tensors: specs) }
    }

    /// The header encoder: `__metadata__` first and only when there is some, offsets as given,
    /// padded to 8 bytes; what it writes parses back to the same entries and metadata.
    func testHeaderEncodingParsesBack() throws {
        let entries = [TensorEntry(name: "b", dtype: .bf16, shape: [3], dataOffsets: 0..<6),
                       TensorEntry(name: "a\"\u{1}", dtype: .u8, shape: [], dataOffsets: 6..<7)]
        let bare = SafetensorsHeader.encode(entries: entries, metadata: [])
        let json = String(decoding: bare[8...], as: UTF8.self)
        XCTAssertEqual(json, #"{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"a\"\u0001":{"dtype":"U8","shape":[],"data_offsets":[6,7]}}"# + "      ")
        XCTAssertEqual(bare.count % 8, 0)
        let metadata = [(key: "z", value: "1"), (key: "a", value: "")]
        let encoded = SafetensorsHeader.encode(entries: entries, metadata: metadata)
        XCTAssertTrue(String(decoding: encoded[8...], as: UTF8.self).hasPrefix(#"{"__metadata__":{"z":"1","a":""},"b":"#))
        let header = try SafetensorsHeader(json: Array(encoded[8...]), fileSize: encoded.count + 7, file: "x")
        XCTAssertEqual(header.entries, entries)
        XCTAssertEqual(header.metadata.map(\.key), ["z", "a"])
        XCTAssertEqual(header.metadata.map(\.value), ["1", ""])
    }

    /// Sharding reproduces the Hugging Face layout of the fixture byte for byte.
    func testShardedOutputMatchesTheReferenceLayout() throws {
        let directory = TestFiles.scratchDirectory(for: self) + "/model"
        let specs = [TensorSpec(name: "a.weight", dtype: .f32, shape: [2, 2]), TensorSpec(name: "b.weight", dtype: .f32, shape: [3]),
                     TensorSpec(name: "c.weight", dtype: .f32, shape: [2, 3])]
        let values: [String: [Float]] = ["a.weight": [0, 1, 2, 3], "b.weight": [10, 11, 12], "c.weight": [20, 21, 22, 23, 24, 25]]
        let writer = try CheckpointWriter(destination: directory, tensors: specs, maximumShardBytes: 28)
        for spec in writer.order {
            try values[spec.name]!.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
        }
        try writer.finish()
        let expected = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]
        XCTAssertEqual(TestFiles.listing(directory), expected)
        for name in expected {
            XCTAssertEqual(TestFiles.bytes(directory + "/" + name), TestFiles.bytes(TestFiles.fixture("safetensors/sharded/" + name)), name)
        }
        let reread = try Checkpoint(path: directory)
        XCTAssertEqual(try reread.values(of: "c.weight", as: Float.self), values["c.weight"])

        // Without a limit: one model.safetensors; a limit with a file path is refused.
        let single = TestFiles.scratchDirectory(for: self) + "/single"
        let one = try CheckpointWriter(destination: single, tensors: specs)
        for spec in one.order { try values[spec.name]!.withUnsafeBufferPointer { try one.write(spec.name, values: $0) } }
        try one.finish()
        XCTAssertEqual(TestFiles.listing(single), ["model.safetensors"])
        XCTAssertSafetensorsError(["needs a directory"]) {
            _ = try CheckpointWriter(destination: single + "/x.safetensors", tensors: specs, maximumShardBytes: 10)
        }
        // An unfinished sharded writer leaves nothing, not even the directory it created.
        let abandoned = TestFiles.scratchDirectory(for: self) + "/abandoned"
        do {
            let partial = try CheckpointWriter(destination: abandoned, tensors: specs, maximumShardBytes: 28)
            try values["a.weight"]!.withUnsafeBufferPointer { try partial.write("a.weight", values: $0) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned))
    }
}

final class StagedFileOutputTests: XCTestCase {
    /// Lengths around the direct-I/O block and the staging capacity, appended in uneven pieces,
    /// come out byte for byte with the exact length, direct and buffered alike.
    func testBytesAndLengthAcrossBlockAndStagingBoundaries() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let (block, capacity) = (StagedFileOutput.alignment, StagedFileOutput.capacity)
        var generator = SplitMix64(seed: 7)
        let lengths = [0, 1, block - 1, block, block + 1, capacity - 1, capacity, capacity + block + 3, 2 * capacity + 123]
        for length in lengths {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for allowDirect in [true, false] {
                let path = directory + "/out-\(length)-\(allowDirect)"
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                XCTAssertGreaterThanOrEqual(fd, 0)
                let output = StagedFileOutput(descriptor: fd, allowDirect: allowDirect)
                var done = 0, piece = 1
                while done < length {
                    let take = min(piece, length - done)
                    let failure = bytes.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0[done..<(done + take)])) }
                    XCTAssertNil(failure)
                    done += take
                    piece = piece * 7 + 1_000_003  // uneven pieces: 1, 1 000 010, 8 000 073, …
                }
                XCTAssertEqual(output.count, length)
                XCTAssertNil(output.finish())
                close(fd)
                let written = TestFiles.bytes(path)
                let context = "length \(length), direct allowed: \(allowDirect) (used: \(output.isDirect))"
                XCTAssertEqual(written.count, length, context)
                XCTAssertTrue(written == bytes, "contents differ: " + context)
            }
        }
    }
}
