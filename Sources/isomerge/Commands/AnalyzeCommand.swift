import Foundation
import IsoMerge

/// `isomerge analyze`: the subspace alignment ratio of every task against each method's merged
/// matrices, as a table, JSON and SVG plots — the paper's evidence for why isotropic merging works.
enum AnalyzeCommand {
    static let help = """
        usage: isomerge analyze --base BASE --models FT1 FT2 ... [--methods iso_c,iso_cts,task_arithmetic,...]
                                [--json OUT.json] [--svg DIR] [--tensor NAME] [--exclude SUBSTRING ...]
                                [--common-fraction F] [--density D] [--threads N] [--quiet]

        For every matrix-path tensor and method: the subspace alignment ratio SAR(τ_t, τ_M) of each task
        (ε = 0.05), k_M, ‖τ_M‖_F and the flatness σ̄/σ₁ of τ_M's spectrum. Prints one line per tensor
        (mean SAR over tasks, methods as columns) and the overall average; --json writes every number;
        --svg writes spectrum.svg (singular values of the task-arithmetic sum, Iso-C and Iso-CTS for
        --tensor, default the largest), sar-per-layer.svg and sar-per-task.svg.
        Default methods: task_arithmetic,tsv_m,iso_c,iso_cts.

        example: isomerge analyze --base base.safetensors --models ft_*.safetensors --json sar.json --svg plots
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["base", "methods", "json", "svg", "tensor", "common-fraction", "density", "threads"],
                                   multiValued: ["models", "exclude"], flags: ["help", "quiet"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help)") }
        guard let base = try parsed.value("base") else { throw UsageError("--base is required") }
        let models = parsed.all("models")
        guard !models.isEmpty else { throw UsageError("--models needs at least one fine-tuned checkpoint") }
        let methodNames = (try parsed.value("methods") ?? "task_arithmetic,tsv_m,iso_c,iso_cts").split(separator: ",").map(String.init)
        let methods = try methodNames.map { name throws(UsageError) -> MergeMethod in
            guard let method = MergeMethod(name: name) else { throw UsageError("unknown method '\(name)' in --methods") }
            return method
        }
        var options = MergeOptions(method: methods[0])
        if !parsed.all("exclude").isEmpty { options.excludedSubstrings = parsed.all("exclude") }
        if let text = try parsed.value("common-fraction") {
            guard let value = Double(text) else { throw UsageError("--common-fraction must be a number") }
            options.commonFraction = value
        }
        if let text = try parsed.value("density") {
            guard let value = Double(text) else { throw UsageError("--density must be a number") }
            options.density = value
        }
        if let text = try parsed.value("threads") {
            guard let value = Int(text), value >= 1 else { throw UsageError("--threads must be a positive integer") }
            options.threads = value
        }
        let quiet = parsed.has("quiet")
        let progress = TerminalProgress(quiet: quiet)
        let report = try AlignmentReport.compute(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) },
                                                 methods: methods, options: options, plotTensor: try parsed.value("tensor"),
                                                 progress: { progress.update($0) })
        progress.finish()
        printTable(report)
        if let path = try parsed.value("json") {
            try writeAtomically(Data((report.json + "\n").utf8), to: path)
            if !quiet { print("wrote \(path)") }
        }
        if let directory = try parsed.value("svg") {
            let written = try writePlots(report, to: directory)
            if !quiet { print("wrote " + written.joined(separator: ", ")) }
        }
    }

    static func printTable(_ report: AlignmentReport) {
        let width = max(6, (report.tensors.map(\.count).max() ?? 6))
        var header = "tensor".padding(toLength: width, withPad: " ", startingAt: 0)
        for method in report.methods { header += method.rawValue.leftPadded(max(8, method.rawValue.count + 2)) }
        print("mean subspace alignment ratio over \(report.tasks.count) tasks (ε = \(SubspaceAlignment.epsilon))")
        print(header)
        for (index, tensor) in report.tensors.enumerated() {
            var line = tensor.padding(toLength: width, withPad: " ", startingAt: 0)
            for method in report.methods {
                line += String(format: "%.4f", report.entries[method]![index].averageRatio).leftPadded(max(8, method.rawValue.count + 2))
            }
            print(line)
        }
        var line = "average".padding(toLength: width, withPad: " ", startingAt: 0)
        for method in report.methods { line += String(format: "%.4f", report.average(method)).leftPadded(max(8, method.rawValue.count + 2)) }
        print(line)
    }

    static func writePlots(_ report: AlignmentReport, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        if let tensor = report.plotTensor {
            let chart = SVGChart(title: "Singular values of τ_M: \(tensor)", xLabel: "index i", yLabel: "σ_i (log scale)", logarithmic: true)
            let series = [MergeMethod.taskArithmetic, .isoC, .isoCTS].compactMap { method in
                report.spectra[method].map { SVGChart.Series(name: method == .taskArithmetic ? "task arithmetic (Σ τ_t)" : method.rawValue, values: $0) }
            }
            written.append(try write(chart.lines(series), directory + "/spectrum.svg"))
        }
        let layers = report.perLayer(report.methods[0]).map(\.layer)
        let layerChart = SVGChart(title: "Average SAR per layer (\(layers.count) layers, checkpoint order)", xLabel: "layer", yLabel: "SAR")
        written.append(try write(layerChart.lines(report.methods.map { SVGChart.Series(name: $0.rawValue, values: report.perLayer($0).map(\.average)) }),
                                 directory + "/sar-per-layer.svg"))
        let taskChart = SVGChart(title: "Average SAR per task", xLabel: "task", yLabel: "SAR")
        written.append(try write(taskChart.bars(groups: report.tasks, report.methods.map { SVGChart.Series(name: $0.rawValue, values: report.perTask($0)) }),
                                 directory + "/sar-per-task.svg"))
        return written
    }

    static func write(_ text: String, _ path: String) throws -> String {
        try writeAtomically(Data(text.utf8), to: path)
        return path
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
