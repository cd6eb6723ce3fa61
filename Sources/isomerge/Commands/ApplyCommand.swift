import Foundation
import IsoMerge

/// `isomerge apply`: θ = θ₀ + α·τ for a task vector saved by `merge --save-task-vector`.
enum ApplyCommand {
    static let help = """
        usage: isomerge apply --base BASE --task-vector PATH --alpha A --output OUT
                              [--output-dtype same|F32|F16|BF16|F64] [--shard-size BYTES] [--overwrite] [--quiet]

        Applies a merged task vector (written by 'isomerge merge --save-task-vector') to the base with a
        new α, without redoing any SVD.

        example: isomerge apply --base base.safetensors --task-vector tau.safetensors --alpha 1.4 --output merged.safetensors
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["base", "task-vector", "alpha", "output", "output-dtype", "shard-size"],
                                   flags: ["help", "overwrite", "quiet"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help)") }
        guard let base = try parsed.value("base") else { throw UsageError("--base is required") }
        guard let taskVector = try parsed.value("task-vector") else { throw UsageError("--task-vector is required") }
        guard let alphaText = try parsed.value("alpha") else { throw UsageError("--alpha is required") }
        guard let alpha = Double(alphaText), alpha.isFinite else { throw UsageError("--alpha must be a number, not '\(alphaText)'") }
        guard let output = try parsed.value("output") else { throw UsageError("--output is required") }
        var dtype: DType?
        if let text = try parsed.value("output-dtype"), text.lowercased() != "same" {
            guard let value = DType(rawValue: text.uppercased()), value.isConvertibleFloat else {
                throw UsageError("--output-dtype must be same, F32, F16, BF16 or F64, not '\(text)'")
            }
            dtype = value
        }
        var shardSize: Int?
        if let text = try parsed.value("shard-size") {
            guard let value = Int(text), value > 0 else { throw UsageError("--shard-size must be a positive number of bytes") }
            shardSize = value
        }
        let quiet = parsed.has("quiet")
        let progress = TerminalProgress(quiet: quiet)
        let tau = try Checkpoint(path: taskVector)
        var metadata = Dictionary(tau.metadata.filter { $0.key.hasPrefix("isomerge.") && $0.key != MergePlan.contentKey }
            .map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        metadata["isomerge.alpha"] = String(alpha)
        let report = try MergeEngine.apply(base: try Checkpoint(path: base), taskVector: tau, alpha: alpha, to: output,
                                           outputDType: dtype, metadata: metadata, maximumShardBytes: shardSize,
                                           overwrite: parsed.has("overwrite"), progress: { progress.update($0) })
        progress.finish()
        if !quiet {
            print(String(format: "applied α = %g in %.2f s, wrote %@", alpha, report.seconds, report.outputPaths.joined(separator: ", ")))
        }
    }
}
