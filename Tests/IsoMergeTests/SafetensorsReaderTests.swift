@testable import IsoMerge
import XCTest

/// Files written by the Python `safetensors` package read exactly (values recomputed here as
/// make.py computes them: arange · scale + offset in Double, then converted).
final class SafetensorsReaderTests: XCTestCase {
    func ramp(_ count: Int, _ scale: Double, _ offset: Double) -> [Double] {
        (0..<count).map { Double($0) * scale + offset }
    }

    func testReadsEveryDtypeFromTheReferenceWriter() throws {
        let file = try SafetensorsFile(path: TestFiles.fixture("safetensors/dtypes.safetensors"))
        let byName = Dictionary(uniqueKeysWithValues: file.entries.map { ($0.name, $0) })
        XCTAssertEqual(Set(byName.keys), ["f64", "f32", "f16", "bf16", "i64", "u8", "mask", "scalar", "empty"])
        XCTAssertTrue(file.header.metadata.contains { $0.key == "note" && $0.value == "fixture" })

        XCTAssertEqual(byName["f64"]?.shape, [2, 3])
        XCTAssertEqual(try file.values(of: byName["f64"]!, as: Double.self), ramp(6, 0.1, -0.25))
        XCTAssertEqual(try file.values(of: byName["f32"]!, as: Float.self), ramp(6, 0.5, -1).map { Float($0) })
        XCTAssertEqual(try file.values(of: byName["f16"]!, as: Float.self),
                       ramp(4, 0.3, -0.6).map { HalfPrecision.float(fromF16: HalfPrecision.f16Bits(from: Float(roundingToOdd: $0))) })
        XCTAssertEqual(try file.values(of: byName["bf16"]!, as: Double.self),
                       ramp(4, 0.7, -1.1).map { Double(HalfPrecision.float(fromBF16: HalfPrecision.bf16Bits(from: Float(roundingToOdd: $0)))) })
        XCTAssertEqual(byName["scalar"]?.shape, [])
        XCTAssertEqual(try file.values(of: byName["scalar"]!, as: Float.self), [2.5])
        XCTAssertEqual(byName["empty"]?.shape, [0, 3])
        XCTAssertEqual(try file.values(of: byName["empty"]!, as: Float.self), [])

        // Integers and booleans come through byte for byte.
        let i64 = try file.rawBytes(of: byName["i64"]!)
        let decoded: [Int64] = (0..<4).map { i in
            var value: UInt64 = 0
            for byte in 0..<8 { value |= UInt64(i64[8 * i + byte]) << UInt64(8 * byte) }
            return Int64(bitPattern: value)
        }
        XCTAssertEqual(decoded, [-3, 0, 7, 1 << 40])
        XCTAssertEqual(try file.rawBytes(of: byName["u8"]!), [0, 1, 255])
        XCTAssertEqual(try file.rawBytes(of: byName["mask"]!), [1, 0, 1])
        XCTAssertSafetensorsError(["tensor 'i64'", "not a float type"]) { _ = try file.values(of: byName["i64"]!, as: Float.self) }
    }

    func testShardedCheckpointFromDirectoryAndFromIndex() throws {
        for path in ["safetensors/sharded", "safetensors/sharded/model.safetensors.index.json"] {
            let checkpoint = try Checkpoint(path: TestFiles.fixture(path))
            XCTAssertEqual(checkpoint.files.count, 2)
            XCTAssertEqual(checkpoint.tensors.map(\.entry.name).sorted(), ["a.weight", "b.weight", "c.weight"])
            XCTAssertEqual(try checkpoint.values(of: "b.weight", as: Float.self), [10, 11, 12])
            XCTAssertEqual(try checkpoint.values(of: "c.weight", as: Float.self), (20..<26).map(Float.init))
            XCTAssertTrue(checkpoint.metadata.contains { $0.key == "total_size" && $0.value == "52" })
        }
    }

    func testSingleFileCheckpointAndDirectoryWithModelFile() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        try FileManager.default.copyItem(atPath: TestFiles.fixture("safetensors/dtypes.safetensors"),
                                         toPath: directory + "/model.safetensors")
        let checkpoint = try Checkpoint(path: directory)
        XCTAssertEqual(checkpoint.tensors.count, 9)
        XCTAssertSafetensorsError(["neither model.safetensors"]) { _ = try Checkpoint(path: TestFiles.scratchDirectory(for: self)) }
        XCTAssertSafetensorsError(["missing.safetensors", "cannot open"]) { _ = try Checkpoint(path: directory + "/missing.safetensors") }
    }

    /// An index whose shards disagree with it is rejected, naming the tensor.
    func testIndexInconsistenciesAreErrors() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.copyItem(atPath: TestFiles.fixture("safetensors/sharded/" + shard), toPath: directory + "/" + shard)
        }
        func index(_ map: String) -> String {
            let path = directory + "/index-\(UUID().uuidString).json"
            _ = FileManager.default.createFile(atPath: path, contents: Data("{\"metadata\":{},\"weight_map\":{\(map)}}".utf8))
            return path
        }
        let one = "model-00001-of-00002.safetensors", two = "model-00002-of-00002.safetensors"
        XCTAssertSafetensorsError(["tensor 'c.weight'", "does not contain it"]) {
            _ = try Checkpoint(path: index("\"a.weight\":\"\(one)\",\"b.weight\":\"\(one)\",\"c.weight\":\"\(one)\""))
        }
        XCTAssertSafetensorsError(["tensor 'b.weight'", "missing from the index"]) {
            _ = try Checkpoint(path: index("\"a.weight\":\"\(one)\",\"c.weight\":\"\(two)\""))
        }
        XCTAssertSafetensorsError(["duplicate key"]) {
            _ = try Checkpoint(path: index("\"a.weight\":\"\(one)\",\"a.weight\":\"\(two)\""))
        }
        XCTAssertSafetensorsError(["no \"weight_map\""]) {
            let path = directory + "/bad.json"
            _ = FileManager.default.createFile(atPath: path, contents: Data("{\"metadata\":{}}".utf8))
            _ = try Checkpoint(path: path)
        }
    }
}
