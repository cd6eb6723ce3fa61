@testable import IsoMerge
import TestSupport
import XCTest

/// The α search with synthetic evaluators: the paper's early stop inside the grid, and honesty at
/// its edges (extension with the grid's step, or a note that the optimum may lie outside).
final class AlphaSelectionTests: XCTestCase {
    let grid = (1...30).map { Double($0) / 10 }  // 0.1 … 3.0, the paper's grid

    func testPeakInsideTheGridStopsEarlyWithoutExtension() {
        let result = AlphaSelection.search(grid: grid) { -($0 - 1.3) * ($0 - 1.3) }
        XCTAssertEqual(result.best, 1.3, accuracy: 1e-12)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(result.trials.map(\.alpha).last!, 1.6, accuracy: 1e-12)
        XCTAssertEqual(result.extendedAbove + result.extendedBelow, 0)
        XCTAssertFalse(result.mayLieOutside)
        XCTAssertTrue(result.notes.isEmpty)
    }

    func testRisingScoresExtendUpwardUntilTheStopFires() {
        // Peak at 3.4, beyond the grid's end: found by extending with the same step.
        let result = AlphaSelection.search(grid: grid) { -($0 - 3.4) * ($0 - 3.4) }
        XCTAssertEqual(result.best, 3.4, accuracy: 1e-12)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(result.extendedAbove, 7)  // 3.1 … 3.7
        XCTAssertFalse(result.mayLieOutside)
        XCTAssertEqual(result.notes.count, 1)
    }

    func testEverRisingScoresSayTheOptimumMayLieAbove() {
        let result = AlphaSelection.search(grid: grid, maximumExtension: 5) { $0 }
        XCTAssertEqual(result.best, 3.5, accuracy: 1e-12)
        XCTAssertEqual(result.extendedAbove, 5)
        XCTAssertFalse(result.stoppedEarly)
        XCTAssertTrue(result.mayLieOutside)
        XCTAssertTrue(result.notes.contains { $0.contains("may lie above") }, "\(result.notes)")
    }

    func testFallingScoresExtendDownwardWhileAlphaStaysPositive() {
        // The grid starts at 0.5; the optimum, 0.2, lies below it.
        let result = AlphaSelection.search(grid: [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]) { -abs($0 - 0.2) }
        XCTAssertEqual(result.best, 0.2, accuracy: 1e-12)
        XCTAssertEqual(result.extendedBelow, 4)  // 0.4, 0.3, 0.2, 0.1; 0.0 is not tried
        XCTAssertFalse(result.mayLieOutside)
        XCTAssertTrue(result.trials.allSatisfy { $0.alpha > 0 })
        XCTAssertTrue(result.notes.first?.contains("downward") ?? false, "\(result.notes)")
    }

    func testBestAtTheSmallestPositiveAlphaIsNotReportedSilently() {
        let result = AlphaSelection.search(grid: grid) { -$0 }
        XCTAssertEqual(result.best, 0.1, accuracy: 1e-12)
        XCTAssertTrue(result.mayLieOutside)
        XCTAssertTrue(result.notes.contains { $0.contains("may lie below") }, "\(result.notes)")
    }

    func testAGridOfThirtiethsIsAnEdgeAtItsFirstValueToo() {
        // 1/30 is not a multiple of the grid's 10⁻¹⁰ rounding: the edge test must not depend on it.
        let result = AlphaSelection.search(grid: (1...30).map { Double($0) / 30 }) { -$0 }
        XCTAssertEqual(result.best, 1.0 / 30, accuracy: 1e-12)
        XCTAssertTrue(result.mayLieOutside)
    }

    func testFlatScoresKeepTheFirstAndSayItIsAnEdge() {
        let result = AlphaSelection.search(grid: grid) { _ in 0.5 }
        XCTAssertEqual(result.best, 0.1, accuracy: 1e-12)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(result.trials.count, 4)
        XCTAssertTrue(result.mayLieOutside)
    }

    func testNoisyScoresStopNearTheirPeak() {
        var generator = SeededGenerator(seed: 5)
        let noise = (0..<200).map { _ in Double.random(in: -0.002...0.002, using: &generator) }
        var calls = 0
        let result = AlphaSelection.search(grid: grid) { alpha in
            defer { calls += 1 }
            return 1 - (alpha - 1.5) * (alpha - 1.5) + noise[calls]
        }
        XCTAssertEqual(result.best, 1.5, accuracy: 0.11)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertFalse(result.mayLieOutside)
        XCTAssertEqual(calls, result.trials.count)
    }

    func testAFailingEvaluatorStopsTheSearch() {
        struct Failure: Error {}
        var calls = 0
        XCTAssertThrowsError(try AlphaSelection.search(grid: grid) { alpha -> Double in
            calls += 1
            if alpha > 0.25 { throw Failure() }
            return alpha
        })
        XCTAssertEqual(calls, 3)
    }

    func testTheReportCarriesTheOutcome() throws {
        let result = AlphaSelection.search(grid: grid, maximumExtension: 2) { $0 }
        let json = AlphaReport(method: "iso_c", search: result).json
        let document = try JSONValue.parse(Array(json.utf8))
        XCTAssertEqual(document["best_alpha"]?.double ?? 0, 3.2, accuracy: 1e-12)
        XCTAssertEqual(document["optimum_may_lie_outside"], .bool(true))
        XCTAssertEqual(document["early_stop_fired"], .bool(false))
        guard case let .array(scores)? = document["scores"] else { return XCTFail("no scores") }
        XCTAssertEqual(scores.count, 32)
    }
}
