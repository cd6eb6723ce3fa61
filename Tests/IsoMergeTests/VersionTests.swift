import IsoMerge
import XCTest

final class VersionTests: XCTestCase {
    /// MAJOR.MINOR.PATCH, each a number without leading zeros (semver.org's core version), as the
    /// provenance of every merged checkpoint records it.
    func testVersionIsSemantic() {
        let parts = IsoMerge.version.split(separator: ".", omittingEmptySubsequences: false)
        XCTAssertEqual(parts.count, 3, IsoMerge.version)
        for part in parts {
            XCTAssertFalse(part.isEmpty, IsoMerge.version)
            XCTAssertTrue(part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber), IsoMerge.version)
            XCTAssertTrue(part == "0" || !part.hasPrefix("0"), IsoMerge.version)
        }
    }
}
