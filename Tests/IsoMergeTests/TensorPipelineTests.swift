import Foundation
@testable import IsoMerge
import TestSupport
import XCTest

/// The merge engine's pipeline: order, memory budget, lone large jobs and failures.
final class TensorPipelineTests: XCTestCase {
    struct Failure: Error, Equatable { var index: Int }

    /// Elements held (started, not consumed), watched from inside the jobs.
    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var held = 0
        private(set) var peak = 0
        private(set) var violations: [String] = []
        private(set) var started: [Int] = []

        func start(_ index: Int, size: Int, threads: Int?, budget: Int, allThreads: Int?) {
            lock.lock()
            defer { lock.unlock() }
            if size > budget {
                if held != 0 { violations.append("job \(index) (\(size) > budget) started beside \(held) held elements") }
                if threads != allThreads { violations.append("job \(index) ran alone with \(String(describing: threads)) threads") }
            } else if threads != 1 {
                violations.append("job \(index) shared the cores with \(String(describing: threads)) threads")
            }
            held += size
            peak = max(peak, held)
            if size <= budget && held > budget { violations.append("job \(index) took held elements to \(held) > \(budget)") }
            started.append(index)
        }

        func consume(size: Int) {
            lock.lock()
            held -= size
            lock.unlock()
        }
    }

    func testResultsArriveInOrderWithinTheBudget() throws {
        var generator = SeededGenerator(seed: 7)
        // Sizes up to 40 against a budget of 50: some pairs fit, some do not, and 80 must run alone.
        let sizes = (0..<40).map { $0 == 17 ? 80 : Int.random(in: 0...40, using: &generator) }
        let budget = 50, allThreads = 6
        for lanes in [1, 2, 3] {
            let ledger = Ledger()
            var consumed: [Int] = []
            try TensorPipeline.run(sizes: sizes, budget: budget, lanes: lanes, allThreads: allThreads,
                                   job: { index, threads in
                                       ledger.start(index, size: sizes[index], threads: threads, budget: budget, allThreads: allThreads)
                                       usleep(UInt32((index * 37) % 5) * 200)
                                       return index * index
                                   },
                                   consume: { index, value in
                                       XCTAssertEqual(value, index * index)
                                       consumed.append(index)
                                       ledger.consume(size: sizes[index])
                                   })
            XCTAssertEqual(consumed, Array(sizes.indices), "lanes \(lanes)")
            XCTAssertEqual(ledger.started.sorted(), Array(sizes.indices), "lanes \(lanes): every job once")
            XCTAssertEqual(ledger.violations, [], "lanes \(lanes)")
            XCTAssertEqual(ledger.held, 0)
            if lanes > 1 { XCTAssertGreaterThan(ledger.peak, 40, "lanes \(lanes): jobs never overlapped") }
        }
    }

    func testTheLowestFailingJobIsReportedAfterEverythingBeforeIt() {
        let sizes = [Int](repeating: 1, count: 30)
        for lanes in [1, 2, 4] {
            var consumed: [Int] = []
            XCTAssertThrowsError(try TensorPipeline.run(sizes: sizes, budget: 3, lanes: lanes, allThreads: nil,
                                                        job: { index, _ in
                                                            if index == 9 || index == 11 { throw Failure(index: index) }
                                                            return index
                                                        },
                                                        consume: { index, _ in consumed.append(index) })) { error in
                XCTAssertEqual(error as? Failure, Failure(index: 9), "lanes \(lanes)")
            }
            XCTAssertEqual(consumed, Array(0..<9), "lanes \(lanes)")
        }
    }

    func testAConsumerErrorStopsThePipeline() {
        let sizes = [Int](repeating: 1, count: 200)
        let ledger = Ledger()
        XCTAssertThrowsError(try TensorPipeline.run(sizes: sizes, budget: 2, lanes: 2, allThreads: nil,
                                                    job: { index, threads in
                                                        ledger.start(index, size: 1, threads: threads, budget: 2, allThreads: nil)
                                                        return index
                                                    },
                                                    consume: { index, _ in
                                                        ledger.consume(size: 1)
                                                        if index == 5 { throw Failure(index: index) }
                                                    })) { error in
            XCTAssertEqual(error as? Failure, Failure(index: 5))
        }
        // The budget of 2 lets at most two jobs run ahead of the consumer.
        XCTAssertLessThanOrEqual(ledger.started.count, 8)
    }
}
