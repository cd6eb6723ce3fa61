@testable import IsoMerge
import XCTest

/// `readWholeFile`: the reader of indexes, configs, α reports and a child's captured output.
final class WholeFileTests: XCTestCase {
    func testReadsEmptyFilesPipesAndProcFilesToTheEnd() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let empty = directory + "/empty", small = directory + "/small"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        _ = FileManager.default.createFile(atPath: small, contents: Data((0..<100_000).map { UInt8($0 % 251) }))
        XCTAssertEqual(try readWholeFile(empty, limit: 0), [])
        XCTAssertEqual(try readWholeFile(small, limit: 100_000), (0..<100_000).map { UInt8($0 % 251) })
        // st_size is 0 for /proc files: the contents are still read.
        XCTAssertTrue(String(decoding: try readWholeFile("/proc/self/status", limit: 1 << 20), as: UTF8.self).contains("Pid:"))
    }

    func testLimitsAndErrorsNameTheFile() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let small = directory + "/small"
        _ = FileManager.default.createFile(atPath: small, contents: Data(count: 10))
        XCTAssertSafetensorsError(["small", "larger than the 9-byte limit"]) { _ = try readWholeFile(small, limit: 9) }
        XCTAssertSafetensorsError(["status", "larger than the 8-byte limit"]) { _ = try readWholeFile("/proc/self/status", limit: 8) }
        XCTAssertSafetensorsError([directory, "is a directory"]) { _ = try readWholeFile(directory, limit: 9) }
        XCTAssertSafetensorsError(["missing", "cannot open"]) { _ = try readWholeFile(directory + "/missing", limit: 9) }
    }
}
