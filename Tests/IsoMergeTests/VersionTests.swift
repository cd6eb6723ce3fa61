import IsoMerge
import XCTest

final class VersionTests: XCTestCase {
    func testVersionIsSemantic() {
        XCTAssertEqual(IsoMerge.version.split(separator: ".").count, 3)
    }
}
