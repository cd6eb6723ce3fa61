import Foundation
import Linalg
@testable import IsoMerge
import XCTest

/// Paths to the committed fixtures and scratch directories for tests.
enum TestFiles {
    static var fixtures: String { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path }

    static func fixture(_ relative: String) -> String { fixtures + "/" + relative }

    /// A fresh empty directory, removed at the end of the test.
    static func scratchDirectory(for test: XCTestCase) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("isomerge-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// The file's bytes ([] when it cannot be read); through `readWholeFile`, as FileManager's
    /// reader leaks on empty files in Swift 6.3.1 and would fail the AddressSanitizer run.
    static func bytes(_ path: String) -> [UInt8] {
        (try? readWholeFile(path, limit: Int.max)) ?? []
    }

    static func listing(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

/// Asserts that `body` throws a SafetensorsError whose text contains every fragment.
func XCTAssertSafetensorsError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as SafetensorsError {
        for fragment in fragments where !error.description.contains(fragment) {
            XCTFail("error '\(error)' lacks '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
}
