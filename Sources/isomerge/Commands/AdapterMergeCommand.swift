import Foundation
import IsoMerge

extension MergeSettings {
    /// `merge --adapters`: PEFT LoRA adapters merged as their densified checkpoints would be
    /// (`AdapterMerge`), into a full checkpoint (`--output`, needs `--base`) and/or a PEFT adapter
    /// (`--output-adapter`). With `--alpha-grid`/`--evaluate` α is chosen on candidate checkpoints
    /// θ₀ + α·τ_M (needs `--base`), and the outputs are written at the chosen α; `--save-task-vector`
    /// writes τ_M in the base's layout. Every output rule is checked before any work.
    func mergeAdapters(options: MergeOptions) throws {
        guard !adapters.isEmpty else { throw UsageError("--output-adapter and --adapter-rank need --adapters DIR ...") }
        guard models.isEmpty else { throw UsageError("give --models (checkpoints) or --adapters (PEFT adapters), not both") }
        guard output != nil || outputAdapter != nil else { throw UsageError("--output (a merged checkpoint) or --output-adapter (a PEFT adapter) is required") }
        if output != nil && base == nil { throw UsageError("--output writes a full checkpoint, which needs --base (or write --output-adapter DIR)") }
        if adapterRank != nil && outputAdapter == nil { throw UsageError("--adapter-rank sets the rank of --output-adapter; give one") }
        if adapterRank == 0 { throw UsageError("--adapter-rank must be at least 1") }
        if (alphaGrid == nil) != (evaluate == nil) { throw UsageError("--alpha-grid and --evaluate go together") }
        if searchReport != nil && alphaGrid == nil { throw UsageError("--search-report reports an α search: give --alpha-grid and --evaluate") }
        if alphaGrid != nil && base == nil {
            throw UsageError("the α search scores candidate checkpoints θ₀ + α·τ_M: give --base (the model the adapters were trained on)")
        }
        if saveTaskVector != nil && base == nil { throw UsageError("--save-task-vector writes τ_M in the base's layout: give --base") }
        if shardSize != nil && output == nil { throw UsageError("--shard-size shards the merged checkpoint: give --output") }
        if part != nil || finish != nil {
            throw UsageError("--part and --finish split a checkpoint merge; an adapter merge runs whole (it takes seconds per model)")
        }
        let grid = try alphaGrid.map(parseGrid)
        let evaluator = try evaluate.map { text throws(UsageError) in try EvaluatorCommand(text) }
        let targets = [output.map { ("--output", OutputTarget($0)) }, outputAdapter.map { ("--output-adapter", OutputTarget.adapter(directory: $0)) },
                       saveTaskVector.map { ("--save-task-vector", OutputTarget($0)) }].compactMap { $0 }
        for (i, first) in targets.enumerated() {
            for second in targets[(i + 1)...] where first.1.overlaps(second.1) {
                throw UsageError("\(first.0) \(first.1.path) and \(second.0) \(second.1.path) would write over each other; give separate places")
            }
        }
        for warning in ignoredParameters(for: options.rule) { printError("warning: \(warning); ignored for \(options.rule.name)") }
        let baseCheckpoint = try base.map { try Checkpoint(path: $0) }
        let inputs = baseCheckpoint.map { [$0] } ?? []
        for (_, target) in targets { try target.check(overwrite: overwrite, inputs: inputs) }
        let adapterInputs = try adapters.map { try LoRAAdapter(path: $0) }
        let progress = TerminalProgress(quiet: quiet)
        func merge(at options: MergeOptions) throws -> AdapterMerge {
            let merge = try AdapterMerge(adapters: adapterInputs, base: baseCheckpoint, options: options)
            merge.progress = { progress.update($0) }
            return merge
        }
        let merged = try merge(at: options)
        let writesCheckpoint = output != nil || saveTaskVector != nil || alphaGrid != nil
        let precision = if writesCheckpoint, let baseCheckpoint { merged.checkpointPrecision(baseCheckpoint) } else { merged.adapterPrecision }
        var metadata = provenance(options: options, precision: precision)
        metadata["isomerge.adapters"] = JSONValue.array(adapters.map { .string($0) }).serialized
        let start = Date()
        if let grid, let evaluator, let baseCheckpoint {
            var search = AlphaSearch(base: baseCheckpoint, inputs: inputs, writeTaskVector: { path, metadata in
                try merged.writeTaskVector(to: path, metadata: metadata)
            }, grid: grid, evaluator: evaluator, output: output,
               scratchBeside: output.map { OutputTarget($0) } ?? OutputTarget.adapter(directory: outputAdapter!),
               outputDType: options.outputDType, shardSize: shardSize, overwrite: overwrite, metadata: metadata,
               saveTaskVector: saveTaskVector, progress: progress)
            if let outputAdapter {
                search.writeAtBest = { alpha, metadata in
                    var chosen = options
                    chosen.alpha = alpha
                    return try writeAdapter(try merge(at: chosen), to: outputAdapter, metadata: metadata, progress: progress)
                }
            }
            summary(start: start, outputs: try run(search, method: options.rule.name).outputPaths)
            return
        }
        metadata["isomerge.alpha"] = String(options.effectiveAlpha)
        // τ_M is staged first and published last, so a run that fails leaves no task vector.
        let stagedTaskVector = try saveTaskVector.map { path throws(SafetensorsError) in try StagedOutput(path) }
        if let stagedTaskVector {
            _ = try merged.writeTaskVector(to: stagedTaskVector.path, metadata: metadata, overwrite: true)
            progress.finish()
        }
        var outputs: [String] = []
        if let outputAdapter { outputs += try writeAdapter(merged, to: outputAdapter, metadata: metadata, progress: progress) }
        if let output {
            outputs += try merged.merge(to: output, metadata: metadata, maximumShardBytes: shardSize, overwrite: overwrite).outputPaths
            progress.finish()
        }
        try stagedTaskVector?.publish(overwrite: overwrite)
        summary(start: start, outputs: outputs + (saveTaskVector.map { [$0] } ?? []))
    }

    /// Writes `merge` as a PEFT adapter and prints its rank line; returns the paths written.
    private func writeAdapter(_ merge: AdapterMerge, to directory: String, metadata: [String: String],
                              progress: TerminalProgress) throws -> [String] {
        let report = try merge.writeAdapter(to: directory, rank: adapterRank, metadata: metadata, overwrite: overwrite)
        progress.finish()
        if !quiet {
            var line = "adapter: \(report.modules) modules, r = \(report.rank)"
            if let largest = report.largestDiscarded {
                line += String(format: "; the rank cut leaves out %.3g%% of ‖τ_M‖² (most: %.3g%% of '%@')",
                               100 * report.discardedShare, 100 * largest.share, largest.module)
            } else {
                line += "; exact (nothing left out)"
            }
            print(line)
        }
        return report.outputPaths
    }
}
