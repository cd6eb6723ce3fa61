import Foundation
import IsoMerge

/// Choosing α with the user's evaluator (docs/ALGORITHMS.md, "Choosing α"): τ_M is computed once, then
/// each α of the grid is applied to a temporary candidate checkpoint, scored by the evaluator
/// command (the last line of its stdout, higher is better), and the search stops after three
/// candidates in a row without improvement — the paper's patience. The best α is written to the
/// output; every temporary file is removed, also on failure.
struct AlphaSearch {
    let engine: MergeEngine
    let base: Checkpoint
    let grid: [Double]
    let evaluator: String
    let output: String
    let outputDType: DType?
    let shardSize: Int?
    let overwrite: Bool
    let metadata: [String: String]
    let saveTaskVector: String?
    let progress: TerminalProgress
    let quiet: Bool

    static let patience = 3

    struct Result {
        let table: String
        let outputPaths: [String]
        let bestAlpha: Double
    }

    func run() throws -> Result {
        if !overwrite && FileManager.default.fileExists(atPath: output) && output.hasSuffix(".safetensors") {
            throw RuntimeError("\(output): already exists (pass --overwrite to replace it)")
        }
        let directory = output.hasSuffix(".safetensors") ? (output as NSString).deletingLastPathComponent : output
        let scratch = (directory.isEmpty ? "." : directory) + "/.isomerge-search-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let taskVector = scratch + "/task-vector.safetensors"
        _ = try engine.writeTaskVector(to: taskVector, metadata: metadata)
        progress.finish()
        let tau = try Checkpoint(path: taskVector)
        var scores: [(alpha: Double, score: Double)] = []
        var best: (alpha: Double, score: Double)?
        var sinceImprovement = 0
        for (index, alpha) in grid.enumerated() {
            let candidate = scratch + "/candidate-\(index).safetensors"
            _ = try MergeEngine.apply(base: base, taskVector: tau, alpha: alpha, to: candidate, outputDType: outputDType)
            let score = try evaluate(candidate, alpha: alpha)
            try? FileManager.default.removeItem(atPath: candidate)
            scores.append((alpha, score))
            if !quiet { printError(String(format: "α = %-8g score %.6g", alpha, score)) }
            if best == nil || score > best!.score {
                best = (alpha, score)
                sinceImprovement = 0
            } else {
                sinceImprovement += 1
                if sinceImprovement >= Self.patience { break }
            }
        }
        guard let best else { throw RuntimeError("the α grid is empty") }
        var meta = metadata
        meta["isomerge.alpha"] = String(best.alpha)
        meta["isomerge.alpha_score"] = String(best.score)
        let report = try MergeEngine.apply(base: base, taskVector: tau, alpha: best.alpha, to: output, outputDType: outputDType,
                                           metadata: meta, maximumShardBytes: shardSize, overwrite: overwrite)
        if let saveTaskVector {
            try FileManager.default.copyItemReplacing(at: taskVector, to: saveTaskVector, overwrite: overwrite)
        }
        var table = "alpha      score\n"
        for row in scores {
            table += String(format: "%-10g %.6g%@\n", row.alpha, row.score, row.alpha == best.alpha ? "   ← best" : "")
        }
        if scores.count < grid.count {
            table += "stopped after \(scores.count) of \(grid.count) candidates (\(Self.patience) without improvement)\n"
        }
        table += "chose α = \(best.alpha)"
        return Result(table: table, outputPaths: report.outputPaths, bestAlpha: best.alpha)
    }

    /// Runs the evaluator on one candidate; its last stdout line must be a number.
    func evaluate(_ checkpoint: String, alpha: Double) throws -> Double {
        let command = evaluator.replacingOccurrences(of: "{checkpoint}", with: shellQuoted(checkpoint))
        let run = try runChildProcess(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", command], scratch: checkpoint)
        let (stdout, stderr) = (run.stdout, run.stderr)
        guard run.status == 0 else {
            throw RuntimeError("the evaluator failed for α = \(alpha) (exit status \(run.status)); search stopped.\n"
                               + "command: \(command)\nits stderr:\n\(stderr)")
        }
        let lastLine = stdout.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let score = Double(lastLine), score.isFinite else {
            throw RuntimeError("the evaluator's last line of output for α = \(alpha) is '\(lastLine)', not a number; search stopped.\n"
                               + "command: \(command)\nits stderr:\n\(stderr)")
        }
        return score
    }
}

/// `text` quoted for /bin/sh.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
