import Dispatch
import Foundation

/// A bounded producer–consumer pipeline for per-tensor work: `lanes` workers run jobs in index
/// order while the calling thread consumes their results in the same order.
///
/// Job i starts on the first free lane once the jobs started but not yet consumed, together with
/// it, hold at most `budget` elements; a job larger than the budget starts only when nothing else
/// is held and then runs alone with every thread. So both cores stay busy across tensors of
/// unequal cost, the consumer (writing the output) overlaps the computation, and peak memory stays
/// near the budget however many tensors there are. A failed job stops new starts; the consumer
/// reports the failure of the lowest index, after consuming everything before it. Results do not
/// depend on the number of lanes: a job's arithmetic is the same on one thread or several
/// (Linalg's guarantee), and results are consumed in index order.
final class TensorPipeline<Value>: @unchecked Sendable {
    private let sizes: [Int]
    private let budget: Int
    private let condition = NSCondition()
    private var nextStart = 0
    private var held = 0
    private var failed = false
    private var stopped = false
    private var results: [Int: Result<Value, Error>] = [:]

    private init(sizes: [Int], budget: Int) {
        self.sizes = sizes
        self.budget = budget
    }

    /// Runs `job(i, threads)` for every i in `sizes.indices` and `consume(i, value)` for each result,
    /// in index order on the calling thread. `threads` is 1 for jobs that share the cores and
    /// `allThreads` for a job that runs alone. Rethrows the first error in index order (a job's or
    /// the consumer's) after every lane has stopped.
    static func run(sizes: [Int], budget: Int, lanes: Int, allThreads: Int?,
                    job: @escaping @Sendable (_ index: Int, _ threads: Int?) throws -> Value,
                    consume: (_ index: Int, _ value: Value) throws -> Void) throws {
        let pipeline = TensorPipeline(sizes: sizes, budget: budget)
        let group = DispatchGroup()
        for _ in 0..<max(1, min(lanes, sizes.count)) {
            DispatchQueue.global().async(group: group) { pipeline.work(job: job, allThreads: allThreads) }
        }
        defer { group.wait() }
        do {
            for index in sizes.indices {
                let value = try pipeline.result(at: index).get()
                try consume(index, value)
                pipeline.release(index)
            }
        } catch {
            pipeline.stop()
            throw error
        }
    }

    /// One lane: start the next job whenever the budget allows, until none is left.
    private func work(job: @Sendable (Int, Int?) throws -> Value, allThreads: Int?) {
        condition.lock()
        defer { condition.unlock() }
        while !failed && !stopped && nextStart < sizes.count {
            let size = sizes[nextStart]
            guard held == 0 || held + size <= budget else {
                condition.wait()
                continue
            }
            let index = nextStart
            nextStart += 1
            held += size
            condition.unlock()
            let result = Result { try job(index, size > budget ? allThreads : 1) }
            condition.lock()
            results[index] = result
            if case .failure = result { failed = true }
            condition.broadcast()
        }
    }

    /// Waits for job `index` (started in order, so it comes) and takes its result.
    private func result(at index: Int) -> Result<Value, Error> {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        return results.removeValue(forKey: index)!
    }

    /// The consumer is done with job `index`: its elements no longer count against the budget.
    private func release(_ index: Int) {
        condition.lock()
        held -= sizes[index]
        condition.broadcast()
        condition.unlock()
    }

    /// No new starts (the consumer failed); running jobs finish and are discarded.
    private func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
