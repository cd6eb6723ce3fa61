@testable import IsoMerge
import XCTest

/// `ShardIndex`: what an index may say, and its text round trip.
final class ShardIndexTests: XCTestCase {
    func parse(_ text: String) throws -> ShardIndex { try ShardIndex(bytes: Array(text.utf8), file: "index.json") }

    /// The fixture's index parses, keeps its order and scalar metadata, and reserializes to its own bytes.
    func testFixtureRoundTrip() throws {
        let bytes = TestFiles.bytes(TestFiles.fixture("safetensors/sharded/model.safetensors.index.json"))
        let index = try ShardIndex(bytes: bytes, file: "index.json")
        XCTAssertEqual(index.weightMap.map(\.tensor), ["a.weight", "b.weight", "c.weight"])
        XCTAssertEqual(index.shardNames, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        XCTAssertEqual(index.metadataText.map(\.key), ["total_size"])
        XCTAssertEqual(index.metadataText.map(\.value), ["52"])
        XCTAssertEqual(index.serialized, bytes)
    }

    /// Non-scalar metadata is skipped, empty maps print as `{}`, and the text parses back equal.
    func testSerializedFormParsesBack() throws {
        let index = try parse(#"{"weight_map":{},"metadata":{"s":"x\n\"","n":-1.5e3,"b":false,"z":null,"o":{}},"other":[1]}"#)
        XCTAssertEqual(index.metadataText.map(\.key), ["s", "n", "b"])
        XCTAssertEqual(index.metadataText.map(\.value), ["x\n\"", "-1.5e3", "false"])
        let text = String(decoding: index.serialized, as: UTF8.self)
        XCTAssertEqual(text, "{\n  \"metadata\": {\n    \"s\": \"x\\n\\\"\",\n    \"n\": -1.5e3,\n    \"b\": false\n  },\n  \"weight_map\": {}\n}\n")
        XCTAssertEqual(try parse(text), index)
        XCTAssertNotEqual(try parse(#"{"weight_map":{"t":"a"}}"#), try parse(#"{"weight_map":{"t":"b"}}"#))
    }

    /// A shard must be a file beside the index: an index cannot send the reader to another
    /// directory, a device or a FIFO by path.
    func testShardNamesArePlainFileNames() {
        for name in ["/etc/passwd", "../model.safetensors", "sub/model.safetensors", "", ".", "..", "a\\u0000b"] {
            XCTAssertSafetensorsError(["index.json", "weight_map value", "is not a file name in the index's directory"]) {
                _ = try parse("{\"weight_map\":{\"t\":\"\(name)\"}}")
            }
        }
        XCTAssertNoThrow(try parse(#"{"weight_map":{"t":"..model.safetensors","u":"a b\\c"}}"#))
        XCTAssertSafetensorsError(["tensor 't'", "not a file name"]) { _ = try parse(#"{"weight_map":{"t":3}}"#) }
        XCTAssertSafetensorsError(["\"metadata\" is a list"]) { _ = try parse(#"{"weight_map":{},"metadata":[]}"#) }
        XCTAssertSafetensorsError(["index is a list"]) { _ = try parse("[]") }
    }

    /// A checkpoint refuses an index that names a shard by an absolute path, even an existing one.
    func testCheckpointRefusesAShardOutsideTheIndexDirectory() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let elsewhere = TestFiles.fixture("safetensors/sharded/model-00001-of-00002.safetensors")
        let index = directory + "/model.safetensors.index.json"
        _ = FileManager.default.createFile(atPath: index, contents: Data("{\"weight_map\":{\"a.weight\":\"\(elsewhere)\"}}".utf8))
        XCTAssertSafetensorsError(["tensor 'a.weight'", "is not a file name in the index's directory"]) {
            _ = try Checkpoint(path: directory)
        }
    }
}
