import Foundation
import IsoMerge

extension MergeSettings {
    /// `merge --adapters`: PEFT LoRA adapters merged as their densified checkpoints would be
    /// (`AdapterMerge`), into a full checkpoint (`--output`, needs `--base`) and/or a PEFT adapter
    /// (`--output-adapter`). Every output rule is checked before any work.
    func mergeAdapters(options: MergeOptions) throws {
        guard !adapters.isEmpty else { throw UsageError("--output-adapter and --adapter-rank need --adapters DIR ...") }
        guard models.isEmpty else { throw UsageError("give --models (checkpoints) or --adapters (PEFT adapters), not both") }
        guard output != nil || outputAdapter != nil else { throw UsageError("--output (a merged checkpoint) or --output-adapter (a PEFT adapter) is required") }
        if output != nil && base == nil { throw UsageError("--output writes a full checkpoint, which needs --base (or write --output-adapter DIR)") }
        if adapterRank != nil && outputAdapter == nil { throw UsageError("--adapter-rank sets the rank of --output-adapter; give one") }
        if adapterRank == 0 { throw UsageError("--adapter-rank must be at least 1") }
        if alphaGrid != nil || evaluate != nil || saveTaskVector != nil || shardSize != nil && output == nil {
            throw UsageError("with --adapters, --alpha-grid, --evaluate and --save-task-vector are not supported yet (docs/ADAPTERS.md)")
        }
        if part != nil || finish != nil {
            throw UsageError("--part and --finish split a checkpoint merge; an adapter merge runs whole (it takes seconds per model)")
        }
        if let output, let outputAdapter, OutputTarget(output).overlaps(OutputTarget.adapter(directory: outputAdapter)) {
            throw UsageError("--output \(output) and --output-adapter \(outputAdapter) would write over each other; give two separate places")
        }
        for warning in ignoredParameters(for: options.rule) { printError("warning: \(warning); ignored for \(options.rule.name)") }
        let baseCheckpoint = try base.map { try Checkpoint(path: $0) }
        let inputs = baseCheckpoint.map { [$0] } ?? []
        if let output { try OutputTarget(output).check(overwrite: overwrite, inputs: inputs) }
        if let outputAdapter { try OutputTarget.adapter(directory: outputAdapter).check(overwrite: overwrite, inputs: inputs) }
        let merge = try AdapterMerge(adapters: try adapters.map { try LoRAAdapter(path: $0) }, base: baseCheckpoint, options: options)
        let progress = TerminalProgress(quiet: quiet)
        merge.progress = { progress.update($0) }
        var metadata = provenance(options: options)
        metadata["isomerge.adapters"] = JSONValue.array(adapters.map { .string($0) }).serialized
        metadata["isomerge.alpha"] = String(options.effectiveAlpha)
        let start = Date()
        var outputs: [String] = []
        if let outputAdapter {
            let report = try merge.writeAdapter(to: outputAdapter, rank: adapterRank, metadata: metadata, overwrite: overwrite)
            progress.finish()
            outputs += report.outputPaths
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
        }
        if let output {
            let report = try merge.merge(to: output, metadata: metadata, maximumShardBytes: shardSize, overwrite: overwrite)
            progress.finish()
            outputs += report.outputPaths
        }
        summary(start: start, outputs: outputs)
    }
}
