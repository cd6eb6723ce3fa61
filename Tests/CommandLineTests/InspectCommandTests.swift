import Foundation
import XCTest

final class InspectCommandTests: XCTestCase {
    func testListsTensorsTotalsAndMetadata() throws {
        let result = try Isomerge.run(["inspect", Isomerge.fixture("dtypes.safetensors")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("f64     F64    [2, 3]     48"), result.stdout)
        XCTAssertTrue(result.stdout.contains("9 tensors, 31 elements, 130 bytes"), result.stdout)
        XCTAssertTrue(result.stdout.contains("note: fixture"), result.stdout)
    }

    func testMalformedFileExitsOneWithTheRule() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data([2, 0, 0, 0, 0, 0, 0, 0, 0x5B, 0x5D]))
        let result = try Isomerge.run(["inspect", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("not a JSON object"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try Isomerge.run(["inspect"]).status, 2)
        XCTAssertEqual(try Isomerge.run(["inspect", "--frobnicate", "x"]).status, 2)
        XCTAssertEqual(try Isomerge.run(["no-such-command"]).status, 2)
        let help = try Isomerge.run(["inspect", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("example:"))
    }
}
