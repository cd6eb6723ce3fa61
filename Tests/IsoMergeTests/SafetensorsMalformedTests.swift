@testable import IsoMerge
import XCTest

/// A corpus of malformed files: each is rejected with a message naming the file, the tensor
/// where there is one, and the rule.
final class SafetensorsMalformedTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = TestFiles.scratchDirectory(for: self)
    }

    /// Writes a file: the 8-byte length (of `header`, unless `declaredLength` says otherwise),
    /// the header bytes and `data` bytes.
    func file(_ header: [UInt8], data: Int = 0, declaredLength: UInt64? = nil) -> String {
        let length = declaredLength ?? UInt64(header.count)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        bytes += header + [UInt8](repeating: 0, count: data)
        let path = directory + "/case-\(UUID().uuidString.prefix(8)).safetensors"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func file(_ header: String, data: Int = 0) -> String { file(Array(header.utf8), data: data) }

    func rejects(_ path: String, _ fragments: String..., line: UInt = #line) {
        let name = String(path.split(separator: "/").last!)
        XCTAssertSafetensorsError([name] + fragments, line: line) { _ = try SafetensorsFile(path: path) }
    }

    func entry(_ name: String = "w", dtype: String = "\"F32\"", shape: String = "[2,3]", offsets: String = "[0,24]") -> String {
        "\"\(name)\":{\"dtype\":\(dtype),\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    func testValidBaseline() throws {
        let path = file("{\(entry())}", data: 24)
        XCTAssertEqual(try SafetensorsFile(path: path).entries.count, 1)
        // Empty and scalar tensors, an empty header object.
        XCTAssertEqual(try SafetensorsFile(path: file("{\(entry("e", shape: "[0,5]", offsets: "[0,0]")),\(entry("s", shape: "[]", offsets: "[0,4]"))}", data: 4)).entries.count, 2)
        XCTAssertEqual(try SafetensorsFile(path: file("{}")).entries.count, 0)
    }

    func testSizeAndLengthRules() {
        let tiny = directory + "/tiny.safetensors"
        _ = FileManager.default.createFile(atPath: tiny, contents: Data([1, 2, 3]))
        rejects(tiny, "too small")
        rejects(file(Array("{}".utf8), declaredLength: 1000), "header length 1000 runs past the end")
        rejects(file(Array("{}".utf8), declaredLength: 100_000_001), "exceeds the limit")
        rejects(file("{\(entry())}", data: 20), "need 24 bytes but the data buffer holds only 20")
        rejects(file("{\(entry())}", data: 30), "trailing bytes")
    }

    func testHeaderSyntax() {
        rejects(file([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), "not valid UTF-8")
        rejects(file("[1,2]"), "not a JSON object")
        rejects(file("{\"w\":"), "not valid JSON")
        rejects(file("{\(entry()),\(entry(offsets: "[24,48]"))}", data: 48), "duplicate key \"w\"")
        rejects(file("{\"w\":[1]}"), "tensor 'w'", "not an object")
        rejects(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: 4), "tensor 'w'", "missing \"dtype\"")
        rejects(file("{\(entry(dtype: "\"F17\""))}", data: 24), "tensor 'w'", "unknown dtype 'F17'")
        rejects(file("{\(entry(dtype: "32"))}", data: 24), "tensor 'w'", "dtype is a number")
    }

    func testShapesAndOffsets() {
        rejects(file("{\(entry(shape: "[-2,3]"))}", data: 24), "tensor 'w'", "shape entry -2")
        rejects(file("{\(entry(shape: "[2.0,3]"))}", data: 24), "tensor 'w'", "shape entry 2.0")
        rejects(file("{\(entry(shape: "[2,\"3\"]"))}", data: 24), "tensor 'w'", "shape entry \"3\"")
        rejects(file("{\(entry(shape: "[4611686018427387904,4]"))}", data: 24), "tensor 'w'", "overflow")
        rejects(file("{\(entry(shape: "[99999999999999999999999]"))}", data: 24), "tensor 'w'", "shape entry")
        rejects(file("{\(entry(offsets: "[-1,23]"))}", data: 24), "tensor 'w'", "not non-negative integers")
        rejects(file("{\(entry(offsets: "[0.5,24]"))}", data: 24), "tensor 'w'", "not non-negative integers")
        rejects(file("{\(entry(offsets: "[0,1e30]"))}", data: 24), "tensor 'w'", "not non-negative integers")
        rejects(file("{\(entry(offsets: "[0,18446744073709551616]"))}", data: 24), "tensor 'w'", "not non-negative integers")
        rejects(file("{\(entry(offsets: "[0,12,24]"))}", data: 24), "tensor 'w'", "not a list of two offsets")
        rejects(file("{\(entry(offsets: "[24,0]"))}", data: 24), "tensor 'w'", "end before they begin")
        rejects(file("{\(entry("visual.proj", shape: "[5,6]", offsets: "[0,100]"))}", data: 100),
                "tensor 'visual.proj': data_offsets [0, 100] hold 100 bytes but shape [5, 6] of F32 needs 120")
        rejects(file("{\(entry("f4", dtype: "\"F4\"", shape: "[3]", offsets: "[0,2]"))}", data: 2), "tensor 'f4'", "whole number of bytes")
    }

    func testTilingOfTheDataBuffer() {
        rejects(file("{\(entry(offsets: "[4,28]"))}", data: 28), "tensor 'w'", "leaves a gap")
        rejects(file("{\(entry("a")),\(entry("b", offsets: "[28,52]"))}", data: 52), "tensor 'b'", "leaves a gap")
        rejects(file("{\(entry("a")),\(entry("b", offsets: "[20,44]"))}", data: 44), "tensor 'b'", "overlaps")
    }

    func testMetadataMustBeStrings() {
        rejects(file("{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3}}"), "__metadata__ value for 'epoch' is a number")
        rejects(file("{\"__metadata__\":[\"pt\"]}"), "__metadata__ is a list")
    }

    func testDirectoryAndMissingFile() {
        XCTAssertSafetensorsError(["is a directory"]) { _ = try SafetensorsFile(path: directory) }
        XCTAssertSafetensorsError(["cannot open"]) { _ = try SafetensorsFile(path: directory + "/none.safetensors") }
    }
}
