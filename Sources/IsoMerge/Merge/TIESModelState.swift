import Dispatch
import Linalg

/// The whole-model quantities TIES needs before it can merge any tensor: each task's trim
/// threshold (exact k-th smallest magnitude over all float entries) and the majority sign.
/// Computed by streaming passes over the checkpoints: one per 16 bits of the magnitude (2 for
/// Float, 4 for Double), then one for the sign election; memory stays one tensor plus T
/// histograms.
struct TIESModelState<T: LinalgScalar> {
    var thresholds: [T]
    var majority: Int

    static func prepare(engine: MergeEngine, start: UInt64) throws -> TIESModelState {
        let tasks = engine.models.count
        let merged = engine.plan.filter(\.merged)
        let entries = merged.reduce(0) { $0 + $1.entry.elementCount }
        let rank = TIES.rank(entries: entries, density: engine.options.density)
        var thresholds = [T](repeating: 0, count: tasks)
        func report(_ index: Int, _ name: String, _ phase: String) {
            engine.progress?(MergeProgress(index: index, count: merged.count, tensor: name, bytesDone: 0, bytesTotal: 0,
                                           elapsed: seconds(since: start), phase: phase))
        }
        if rank > 0 {
            var selections = (0..<tasks).map { _ in MagnitudeSelection<T>(rank: rank) }
            while !selections[0].isComplete {
                for (index, item) in merged.enumerated() {
                    let taskVectors: [[T]] = try engine.taskVectors(of: item.name)
                    for t in 0..<tasks { selections[t].count(taskVectors[t]) }
                    report(index + 1, item.name, "trim thresholds")
                }
                for t in 0..<tasks { selections[t].finishPass() }
            }
            thresholds = selections.map(\.value)
        }
        var signs = 0
        for (index, item) in merged.enumerated() {
            signs += TIES.signSum(try engine.taskVectors(of: item.name) as [[T]], thresholds: thresholds)
            report(index + 1, item.name, "sign election")
        }
        return TIESModelState(thresholds: thresholds, majority: signs.signum())
    }
}
