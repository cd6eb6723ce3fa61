import Foundation
import Linalg

/// The whole-model quantities TIES needs before it can merge any tensor: each task's trim
/// threshold (exact k-th smallest magnitude over all float entries) and the majority sign.
/// Computed by streaming passes over the task vectors: one per 16 bits of the magnitude (2 for
/// Float, 4 for Double), then one for the sign election. Each pass runs tensors side by side;
/// what they produce — histogram counts and sign counts — are integers that add exactly in any
/// order, so the result does not depend on the lane count. Entries the stream counts as zeros
/// without visiting them (`TaskVectorStream.implicitZeros`) go into bin 0 of each pass that can hold
/// them and add nothing to the sign election. Memory: the tensors in flight (the
/// source's budget) plus one set of T histograms per lane. Thresholds are stored as Double, which
/// holds every Float and Double magnitude exactly.
public struct TIESStatistics: Sendable {
    public let thresholds: [Double]
    public let majority: Int

    @_specialize(where S == TaskVectorSource<Float>)
    @_specialize(where S == TaskVectorSource<Double>)
    init<S: TaskVectorStream>(_ source: S, density: Double) throws {
        typealias T = S.Scalar
        let tasks = source.taskCount
        let rank = TIES.rank(entries: source.entryCount, density: density)
        var thresholds = [T](repeating: 0, count: tasks)
        if rank > 0 {
            var selections = (0..<tasks).map { _ in MagnitudeSelection<T>(rank: rank) }
            while !selections[0].isComplete {
                let pass = selections
                let histograms = HistogramPool(tasks: tasks, bins: MagnitudeSelection<T>.bins)
                try source.forEachMergedTensor(phase: "trim thresholds", { taskVectors in
                    histograms.withSet { set in
                        for t in 0..<tasks { pass[t].count(taskVectors[t], into: &set[t]) }
                    }
                }, consume: { _ in })
                var totals = histograms.totals()
                for t in 0..<tasks {
                    pass[t].countZeros(source.implicitZeros, into: &totals[t])
                    selections[t].finishPass(totals[t])
                }
            }
            thresholds = selections.map(\.value)
        }
        var signs = 0
        try source.forEachMergedTensor(phase: "sign election", { [thresholds] taskVectors in
            TIES.signSum(taskVectors, thresholds: thresholds)
        }, consume: { signs += $0 })
        self.thresholds = thresholds.map { Double($0) }
        majority = signs.signum()
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
