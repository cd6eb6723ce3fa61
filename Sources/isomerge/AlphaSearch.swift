import Foundation
import IsoMerge

/// Choosing α with the user's evaluator (docs/ALGORITHMS.md, "Choosing α"): τ_M is computed once, then
/// each α of the grid is applied to a temporary candidate checkpoint, scored by the evaluator
/// command (the last line of its stdout, higher is better), and the search stops after three
/// candidates in a row without improvement — the paper's patience — extending the grid where its
/// edges leave the optimum unsettled (`AlphaSelection`). The best α is written to the output. τ_M and the candidates live in a temporary directory beside the
/// output (`TemporaryDirectory`), removed at the end, on failure and on interruption. The merge is
/// the closure that writes τ_M as a task-vector file (of checkpoints or of adapters), `inputs` what
/// the outputs must not overwrite; `writeAtBest` writes further outputs at the chosen α (a merged
/// adapter), after the checkpoint (if any) and before a saved task vector is published.
struct AlphaSearch {
    let base: Checkpoint
    let inputs: [Checkpoint]
    let writeTaskVector: (_ destination: String, _ metadata: [String: String]) throws -> MergeReport
    let grid: [Double]
    let evaluator: EvaluatorCommand
    /// The checkpoint written at the chosen α (nil: none), and the output the scratch lies beside.
    let output: String?
    let scratchBeside: OutputTarget
    var writeAtBest: ((_ alpha: Double, _ metadata: [String: String]) throws -> [String])? = nil
    let outputDType: DType?
    let shardSize: Int?
    let overwrite: Bool
    let metadata: [String: String]
    let saveTaskVector: String?
    let progress: TerminalProgress

    struct Result {
        let table: String
        let outputPaths: [String]
        let search: AlphaSelection.Result
    }

    func run() throws -> Result {
        let directory = try scratchBeside.temporariesDirectory()
        StaleTemporaries.sweep(directory: directory)
        let scratch = try TemporaryDirectory(beside: directory + "isomerge-search")
        defer { scratch.remove() }
        let (tau, search, _) = try CandidateSearch.run(base: base, grid: grid, scratch: scratch.path, outputDType: outputDType,
                                                       writeTaskVector: { try writeTaskVector($0, metadata) }) { candidate, alpha in
            let score = try evaluate(candidate, alpha: alpha)
            progress.message(String(format: "α = %-8g score %.6g", alpha, score))
            return score
        }
        var meta = metadata
        meta["isomerge.alpha"] = String(search.best)
        meta["isomerge.alpha_score"] = String(search.score)
        // τ_M is staged beside its destination before the checkpoint is written and published
        // after it, so a run that fails leaves neither.
        let stagedTaskVector = try saveTaskVector.map { path throws(SafetensorsError) in try StagedOutput(path) }
        if let stagedTaskVector {
            try tau.copy(to: stagedTaskVector.path, overwrite: true, inputs: inputs)
        }
        var outputPaths: [String] = []
        if let output {
            outputPaths += try MergeEngine.apply(base: base, taskVector: tau, alpha: search.best, to: output, outputDType: outputDType,
                                                 metadata: meta, maximumShardBytes: shardSize, overwrite: overwrite).outputPaths
        }
        if let writeAtBest { outputPaths += try writeAtBest(search.best, meta) }
        try stagedTaskVector?.publish(overwrite: overwrite)
        var table = "alpha      score\n"
        for row in search.trials {
            table += String(format: "%-10g %.6g%@\n", row.alpha, row.score, row.alpha == search.best ? "   ← best" : "")
        }
        if search.stoppedEarly {
            table += "stopped after \(search.trials.count) candidates (\(AlphaSelection.patience) in a row without improvement)\n"
        }
        for note in search.notes { table += note + "\n" }
        table += "chose α = \(search.best)" + (search.mayLieOutside ? " (the optimum may lie outside what was tried)" : "")
        return Result(table: table, outputPaths: outputPaths, search: search)
    }

    /// Runs the evaluator on one candidate; its last stdout line must be a number.
    func evaluate(_ checkpoint: String, alpha: Double) throws -> Double {
        let run = try runChildProcess("/bin/sh", arguments: ["-c", evaluator.shellCommand],
                                      environment: [EvaluatorCommand.variable: checkpoint], scratch: checkpoint)
        let (stdout, stderr) = (run.stdout, run.stderr)
        let command = "command: \(evaluator.template)\nwith {checkpoint} = \(checkpoint)"
        guard run.status == 0 else {
            throw RuntimeError("the evaluator failed for α = \(alpha) (exit status \(run.status)); search stopped.\n"
                               + "\(command)\nits stderr:\n\(stderr)")
        }
        let lastLine = stdout.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let score = Double(lastLine), score.isFinite else {
            throw RuntimeError("the evaluator's last line of output for α = \(alpha) is '\(lastLine)', not a number; search stopped.\n"
                               + "\(command)\nits stderr:\n\(stderr)")
        }
        return score
    }
}
