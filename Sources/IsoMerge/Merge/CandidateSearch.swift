#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// α chosen on real checkpoints: τ_M is computed once and written to `scratch` (by
/// `writeTaskVector`, as a task-vector file in the base's layout), then each α that
/// `AlphaSelection` asks for is applied to the base as a candidate checkpoint in `scratch`, scored
/// by `score(candidatePath, α)` and deleted. The caller owns `scratch` (a directory) and the
/// returned task-vector file in it; `mergeSeconds` is the time τ_M took. Cost: one merge, then
/// reading θ₀ and τ_M and writing one checkpoint per candidate, plus the scoring.
public enum CandidateSearch {
    public static func run(base: Checkpoint, grid: [Double], scratch: String, outputDType: DType? = nil,
                           writeTaskVector: (_ destination: String) throws -> MergeReport,
                           score: (_ candidate: String, _ alpha: Double) throws -> Double)
        throws -> (taskVector: Checkpoint, search: AlphaSelection.Result, mergeSeconds: Double) {
        let taskVectorPath = scratch + "/task-vector.safetensors"
        let merged = try writeTaskVector(taskVectorPath)
        let tau = try Checkpoint(path: taskVectorPath)
        var candidates = 0
        let search = try AlphaSelection.search(grid: grid) { alpha in
            let candidate = scratch + "/candidate-\(candidates).safetensors"
            candidates += 1
            _ = try MergeEngine.apply(base: base, taskVector: tau, alpha: alpha, to: candidate, outputDType: outputDType)
            defer { unlink(candidate) }
            return try score(candidate, alpha)
        }
        return (tau, search, merged.seconds)
    }

    /// The search for a checkpoint merge (`MergeEngine`).
    public static func run(engine: MergeEngine, grid: [Double], scratch: String, outputDType: DType? = nil,
                           taskVectorMetadata: [String: String] = [:],
                           score: (_ candidate: String, _ alpha: Double) throws -> Double)
        throws -> (taskVector: Checkpoint, search: AlphaSelection.Result, mergeSeconds: Double) {
        try run(base: engine.base, grid: grid, scratch: scratch, outputDType: outputDType,
                writeTaskVector: { try engine.writeTaskVector(to: $0, metadata: taskVectorMetadata) }, score: score)
    }
}
