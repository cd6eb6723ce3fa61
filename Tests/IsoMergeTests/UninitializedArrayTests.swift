@testable import IsoMerge
import XCTest

/// `Array(uninitializedCount:initializingWith:)`.
final class UninitializedArrayTests: XCTestCase {
    func testFillsInPlaceAndLeavesTheEmptyCaseToTheLiteral() throws {
        XCTAssertEqual([Int](uninitializedCount: 3) { buffer in
            for i in 0..<3 { (buffer.baseAddress! + i).initialize(to: 10 * i) }
        }, [0, 10, 20])
        // Count 0: the closure is not called (so nothing is written to the shared empty storage).
        var called = false
        XCTAssertEqual([Int](uninitializedCount: 0) { _ in called = true }, [])
        XCTAssertFalse(called)
        struct Failure: Error {}
        XCTAssertThrowsError(try [Int](uninitializedCount: 2) { _ throws(Failure) in throw Failure() })
    }
}
