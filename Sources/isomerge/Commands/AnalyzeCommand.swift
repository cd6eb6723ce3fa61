import Foundation
import IsoMerge
import IsoMergePlot

/// `isomerge analyze`: the subspace alignment ratio of every task against each method's merged
/// matrices, as a table, JSON and SVG plots — the paper's evidence for why isotropic merging works.
enum AnalyzeCommand {
    static let help = """
        usage: isomerge analyze --base BASE --models FT1 FT2 ... [--methods iso_c,iso_cts,task_arithmetic,...]
               isomerge analyze --adapters DIR1 DIR2 ... [--base BASE] [--methods ...]
                                [--json OUT.json] [--svg DIR] [--tensor NAME] [--alpha-report FILE ...]
                                [--exclude SUBSTRING ...] [--common-fraction F] [--density D] [--precision P]
                                [--threads N] [--quiet]

        For every matrix-path tensor and method: the subspace alignment ratio SAR(τ_t, τ_M) of each task
        (ε = 0.05), k_M, ‖τ_M‖_F and the flatness σ̄/σ₁ of τ_M's spectrum. Prints one line per tensor
        (mean SAR over tasks, methods as columns) and the overall average; --json writes every number;
        --svg DIR writes, each method in the same colour, marker and dash in every figure:
          spectrum.svg       singular values of each method's τ_M for --tensor (default: the tensor
                             with the largest task vectors, Σ_t ‖τ_t‖_F²), log scale
          sar-per-layer.svg  mean SAR of every tensor, labelled block.kind and grouped by block
          sar-per-task.svg   mean SAR of every task, methods side by side
          alpha-scores.svg   score against α of each --alpha-report file (the JSON that
                             `isomerge demo` writes per method: {"method": "iso_c",
                             "scores": [{"alpha": 0.1, "score": 0.71}, ...]})
        Default methods: task_arithmetic,tsv_m,iso_c,iso_cts. Method parameters as for 'isomerge merge'
        (each method takes those it declares); --precision float64 merges in Double. With --adapters (PEFT
        LoRA adapters), every module they change is analysed as their densified checkpoints would be,
        τ_t = s·B·A; --base is then optional (ties uses it for its whole-model trim, as in merge).

        example: isomerge analyze --base base.safetensors --models ft_*.safetensors --json sar.json --svg plots
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["base", "methods", "json", "svg", "tensor", "common-fraction", "density", "threads",
                                                        "precision"],
                                   multiValued: ["models", "adapters", "exclude", "alpha-report"], flags: ["help", "quiet"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help)") }
        let base = try parsed.value("base")
        let (models, adapters) = (parsed.all("models"), parsed.all("adapters"))
        if !models.isEmpty && !adapters.isEmpty { throw UsageError("give --models (checkpoints) or --adapters (PEFT adapters), not both") }
        if adapters.isEmpty {
            guard base != nil else { throw UsageError("--base is required") }
            guard !models.isEmpty else { throw UsageError("--models needs at least one fine-tuned checkpoint") }
        }
        var given: [String: MergeParameterValue] = [:]
        if !parsed.all("exclude").isEmpty { given["exclude"] = .strings(parsed.all("exclude")) }
        for name in ["common-fraction", "density"] {
            guard let text = try parsed.value(name) else { continue }
            guard let value = Double(text) else { throw UsageError("--\(name) must be a number") }
            given[name] = .number(value)
        }
        let methodNames = (try parsed.value("methods") ?? "task_arithmetic,tsv_m,iso_c,iso_cts").split(separator: ",").map(String.init)
        let rules = try methodNames.map { name throws(UsageError) -> any MergeRule in
            do {
                return try MergeRules.standard.make(name, given: given, ignoringUndeclared: true)
            } catch {
                throw UsageError("--methods: \(error)")
            }
        }
        let names = rules.map { $0.name }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw UsageError("--methods names \(repeated) twice")
        }
        if try !parsed.all("alpha-report").isEmpty && parsed.value("svg") == nil {
            throw UsageError("--alpha-report is plotted into the --svg directory; pass --svg DIR as well")
        }
        var threads: Int?
        if let text = try parsed.value("threads") {
            guard let value = Int(text), value >= 1 else { throw UsageError("--threads must be a positive integer") }
            threads = value
        }
        let precisionText = try parsed.value("precision") ?? "float32"
        guard let precision = Precision(rawValue: precisionText) else {
            throw UsageError("--precision must be float32 or float64, not '\(precisionText)'")
        }
        let alphaReports = try parsed.all("alpha-report").map { try AlphaReport(contentsOf: $0) }
        let quiet = parsed.has("quiet")
        let progress = TerminalProgress(quiet: quiet)
        let exclude = parsed.all("exclude").isEmpty ? defaultExcludedSubstrings : parsed.all("exclude")
        let baseCheckpoint = try base.map { try Checkpoint(path: $0) }
        let report = adapters.isEmpty
            ? try AlignmentReport.compute(base: baseCheckpoint!, models: try models.map { try Checkpoint(path: $0) }, rules: rules,
                                          exclude: exclude, precision: precision, threads: threads, plotTensor: try parsed.value("tensor"),
                                          progress: { progress.update($0) })
            : try AlignmentReport.compute(adapters: try adapters.map { try LoRAAdapter(path: $0) }, base: baseCheckpoint, rules: rules,
                                          exclude: exclude, precision: precision, threads: threads, plotTensor: try parsed.value("tensor"),
                                          progress: { progress.update($0) })
        progress.finish()
        printTable(report)
        if let path = try parsed.value("json") {
            try writeAtomically(Data((report.json + "\n").utf8), to: path)
            if !quiet { print("wrote \(path)") }
        }
        if let directory = try parsed.value("svg") {
            let written = try writePlots(report, alphaReports: alphaReports, to: directory)
            if !quiet { print("wrote " + written.joined(separator: ", ")) }
        }
    }

    static func printTable(_ report: AlignmentReport) {
        let width = (["tensor", "average"] + report.tensors).map(\.count).max()!
        var header = "tensor".padding(toLength: width, withPad: " ", startingAt: 0)
        for method in report.methods { header += method.leftPadded(max(8, method.count + 2)) }
        print("mean subspace alignment ratio over \(report.tasks.count) tasks (ε = \(SubspaceAlignment.epsilon))")
        print(header)
        for (index, tensor) in report.tensors.enumerated() {
            var line = tensor.padding(toLength: width, withPad: " ", startingAt: 0)
            for method in report.methods {
                line += String(format: "%.4f", report.entries[method]![index].averageRatio).leftPadded(max(8, method.count + 2))
            }
            print(line)
        }
        var line = "average".padding(toLength: width, withPad: " ", startingAt: 0)
        for method in report.methods { line += String(format: "%.4f", report.average(method)).leftPadded(max(8, method.count + 2)) }
        print(line)
    }

    /// Writes every figure of `AnalysisFigure.all` into `directory` (created if missing); returns the paths.
    static func writePlots(_ report: AlignmentReport, alphaReports: [AlphaReport], to directory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("\(directory): cannot create the plot directory: \(error.localizedDescription)")
        }
        return try AnalysisFigure.all(report, alphaReports: alphaReports).map { figure in
            let path = directory + "/" + figure.file
            try writeAtomically(Data(figure.svg.utf8), to: path)
            return path
        }
    }

    /// Temporary file beside the target, then rename.
    static func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
