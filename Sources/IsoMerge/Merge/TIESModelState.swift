import Foundation
import Linalg

/// The whole-model quantities TIES needs before it can merge any tensor: each task's trim
/// threshold (exact k-th smallest magnitude over all float entries) and the majority sign.
/// Computed by streaming passes over the checkpoints: one per 16 bits of the magnitude (2 for
/// Float, 4 for Double), then one for the sign election. Each pass runs tensors side by side on
/// the merge engine's lanes; what they produce — histogram counts and sign counts — are integers
/// that add exactly in any order, so the result does not depend on the lane count. Memory: the
/// tensors in flight (the engine's budget) plus one set of T histograms per lane.
struct TIESModelState<T: LinalgScalar> {
    var thresholds: [T]
    var majority: Int

    static func prepare(engine: MergeEngine, start: UInt64) throws -> TIESModelState {
        let tasks = engine.models.count
        let merged = engine.plan.filter(\.merged)
        let entries = merged.reduce(0) { $0 + $1.entry.elementCount }
        let rank = TIES.rank(entries: entries, density: engine.options.density)
        var thresholds = [T](repeating: 0, count: tasks)
        if rank > 0 {
            var selections = (0..<tasks).map { _ in MagnitudeSelection<T>(rank: rank) }
            while !selections[0].isComplete {
                let pass = selections
                let histograms = HistogramPool(tasks: tasks, bins: MagnitudeSelection<T>.bins)
                try forEachTensor(engine, merged, start: start, phase: "trim thresholds", { taskVectors in
                    histograms.withSet { set in
                        for t in 0..<tasks { pass[t].count(taskVectors[t], into: &set[t]) }
                    }
                }, consume: { _ in })
                let totals = histograms.totals()
                for t in 0..<tasks { selections[t].finishPass(totals[t]) }
            }
            thresholds = selections.map(\.value)
        }
        var signs = 0
        try forEachTensor(engine, merged, start: start, phase: "sign election", { [thresholds] taskVectors in
            TIES.signSum(taskVectors, thresholds: thresholds)
        }, consume: { signs += $0 })
        return TIESModelState(thresholds: thresholds, majority: signs.signum())
    }

    /// `body` on every merged tensor's task vectors, tensors side by side as in the merge pass;
    /// `consume` takes the results in tensor order on this thread, and progress is reported with each.
    private static func forEachTensor<Value>(_ engine: MergeEngine, _ merged: [(name: String, entry: TensorEntry, merged: Bool)],
                                             start: UInt64, phase: String, _ body: @escaping @Sendable ([[T]]) -> Value,
                                             consume: (Value) -> Void) throws {
        try engine.sideBySide(sizes: merged.map(\.entry.elementCount),
                              job: { index, _ in body(try engine.taskVectors(of: merged[index].name)) },
                              consume: { index, value in
                                  consume(value)
                                  engine.progress?(MergeProgress(index: index + 1, count: merged.count, tensor: merged[index].name,
                                                                 bytesDone: 0, bytesTotal: 0, elapsed: seconds(since: start), phase: phase))
                              })
    }
}

/// Sets of T histograms handed to one running job at a time (a lane reuses its set from tensor to
/// tensor), summed at the end of a pass.
private final class HistogramPool: @unchecked Sendable {
    private let tasks: Int, bins: Int
    private let lock = NSLock()
    private var sets: [[[Int]]] = []

    init(tasks: Int, bins: Int) {
        (self.tasks, self.bins) = (tasks, bins)
    }

    func withSet(_ body: (inout [[Int]]) -> Void) {
        var set = lock.withLock { sets.popLast() } ?? Array(repeating: [Int](repeating: 0, count: bins), count: tasks)
        body(&set)
        lock.withLock { sets.append(set) }
    }

    /// Per task, the histograms of all sets added.
    func totals() -> [[Int]] {
        lock.withLock {
            (0..<tasks).map { t in
                (0..<bins).map { bin in sets.reduce(0) { $0 + $1[t][bin] } }
            }
        }
    }
}
