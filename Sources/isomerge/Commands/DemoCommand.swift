import Foundation
import IsoMerge
import IsoMergeDemo

/// `isomerge demo`: the whole job on built-in data. Builds the demo world (base, experts, data),
/// writes the checkpoints, merges them with every method through the same engine as real
/// checkpoints, chooses α per method on validation data with the grid/early-stop rule, and
/// reports test accuracy per task in the paper's style.
enum DemoCommand {
    static let help = """
        usage: isomerge demo [--tasks N] [--seed S] [--out DIR] [--quiet]

        Builds a small multi-task world (no downloads), a miniature of how these methods are used: a
        base encoder pre-trained broadly, N tasks with frozen heads made from the base's embeddings of
        their class prototypes, and one expert fine-tuned briefly per task; writes base and experts as
        safetensors into DIR (default ./isomerge-demo, files there are replaced), merges the experts
        with every method, picks α on validation data (the method's grid, stop after 3 without
        improvement, the grid continued at an unsettled edge; each search's scores go to
        DIR/alpha-METHOD.json, the format `isomerge analyze --alpha-report` plots), and prints test
        accuracy per task, the average absolute and normalized accuracy, α, where α lies in the grid,
        and merge time.

        example: isomerge demo --tasks 8 --seed 1
        """

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: ["tasks", "seed", "out"], flags: ["help", "quiet"])
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help)") }
        var configuration = DemoConfiguration()
        if let text = try parsed.value("tasks") {
            guard let tasks = Int(text), (1...32).contains(tasks) else { throw UsageError("--tasks must be between 1 and 32, not '\(text)'") }
            configuration.tasks = tasks
        }
        if let text = try parsed.value("seed") {
            guard let seed = UInt64(text) else { throw UsageError("--seed must be a non-negative integer, not '\(text)'") }
            configuration.seed = seed
        }
        let directory = try parsed.value("out") ?? "isomerge-demo"
        let quiet = parsed.has("quiet")
        let started = Date()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !quiet { printError("building the world: \(configuration.tasks) tasks, seed \(configuration.seed) …") }
        let world = DemoWorld(configuration: configuration)
        let paths = try world.writeCheckpoints(to: directory, overwrite: true)
        var rows: [Row] = [
            Row(name: "zero-shot (base)", alpha: "- ", place: "-", accuracies: world.baseAccuracies(on: .test), seconds: "-"),
            Row(name: "fine-tuned (each)", alpha: "- ", place: "-", accuracies: world.expertAccuracies(on: .test), seconds: "-"),
        ]
        var written = paths
        for rule in MergeRules.standard.all {
            if !quiet { printError("merging with \(rule.name) …") }
            let (row, files) = try merge(with: try rule.init(given: [:]), world: world, checkpoints: paths, directory: directory)
            rows.append(row)
            written += files
        }
        printTable(rows, world: world, configuration: configuration)
        print(String(format: "finished in %.1f s; files in %@:", Date().timeIntervalSince(started), directory))
        for path in written { print("  " + (path as NSString).lastPathComponent) }
    }

    /// One line of the table: test accuracy per task of a model.
    struct Row {
        let name: String, alpha: String, place: String, accuracies: [Double], seconds: String
    }

    /// Merges the experts with `rule`, chooses α on validation data (α = 1 for averaging), writes
    /// the α report and the merged checkpoint, and returns its row and the files written.
    static func merge(with rule: any MergeRule, world: DemoWorld, checkpoints paths: [String],
                      directory: String) throws -> (Row, [String]) {
        let base = try Checkpoint(path: paths[0])
        let engine = try MergeEngine(base: base, models: try paths.dropFirst().map { try Checkpoint(path: $0) },
                                     options: MergeOptions(rule: rule))
        let expertValidation = world.expertAccuracies(on: .validation)
        let scratch = directory + "/.scratch-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let grid = rule is Average ? [1.0] : type(of: rule).alphaGrid
        let (taskVector, search, mergeSeconds) = try CandidateSearch.run(engine: engine, grid: grid, scratch: scratch) { candidate, _ in
            let accuracies = try world.accuracies(of: try Checkpoint(path: candidate), on: .validation)
            return zip(accuracies, expertValidation).reduce(0) { $0 + $1.0 / $1.1 } / Double(accuracies.count)
        }
        let alphaReport = directory + "/alpha-\(rule.name).json"
        try Data((AlphaReport(method: rule.name, search: search).json + "\n").utf8).write(to: URL(fileURLWithPath: alphaReport))
        let output = directory + "/merged_\(rule.name).safetensors"
        _ = try MergeEngine.apply(base: base, taskVector: taskVector, alpha: search.best, to: output,
                                  metadata: ["isomerge.method": rule.name, "isomerge.alpha": String(search.best)], overwrite: true)
        // "*": the search ended at an edge it could not settle (see the α report's notes).
        let row = Row(name: rule.name, alpha: String(format: "%.2f", search.best) + (search.mayLieOutside ? "*" : " "),
                      place: place(of: search.best, in: grid), accuracies: try world.accuracies(of: try Checkpoint(path: output), on: .test),
                      seconds: String(format: "%.2f", mergeSeconds))
        return (row, [alphaReport, output])
    }

    /// Where the chosen α lies: "k/N" for the k-th of the grid's N values, "above+k" or "below-k"
    /// for k steps past the grid's end or start (the edge-aware search went there), "fixed" for a
    /// one-value grid.
    static func place(of alpha: Double, in grid: [Double]) -> String {
        guard grid.count > 1, let first = grid.first, let last = grid.last else { return "fixed" }
        let step = grid[1] - first
        if let index = grid.firstIndex(where: { abs($0 - alpha) < step / 2 }) { return "\(index + 1)/\(grid.count)" }
        return alpha > last ? "above+\(Int(((alpha - last) / step).rounded()))" : "below-\(Int(((first - alpha) / step).rounded()))"
    }

    /// The table, in the paper's style: accuracy (%) per task, average absolute and normalized.
    static func printTable(_ rows: [Row], world: DemoWorld, configuration: DemoConfiguration) {
        let expertTest = world.expertAccuracies(on: .test)
        var header = "method".padding(toLength: 19, withPad: " ", startingAt: 0) + "alpha".leftPadded(6) + "grid".leftPadded(9) + " "
        for name in world.taskNames { header += name.leftPadded(7) }
        header += "avg".leftPadded(7) + "norm".leftPadded(7) + "merge_s".leftPadded(9)
        let norms = world.relativeTaskVectorNorms
        print("isomerge demo: \(configuration.tasks) tasks, seed \(configuration.seed); test accuracy (%)")
        print(String(format: "experts: %d steps from the base, heads frozen; ‖τ_t‖/‖θ₀‖ = %.3f on average (%.3f–%.3f)",
                     configuration.fineTuningSteps, norms.reduce(0, +) / Double(norms.count), norms.min() ?? 0, norms.max() ?? 0))
        print(header)
        for row in rows {
            var line = row.name.padding(toLength: 19, withPad: " ", startingAt: 0) + row.alpha.leftPadded(7) + row.place.leftPadded(8)
            for accuracy in row.accuracies { line += String(format: "%7.1f", 100 * accuracy) }
            let average = row.accuracies.reduce(0, +) / Double(row.accuracies.count)
            let normalized = zip(row.accuracies, expertTest).reduce(0) { $0 + $1.0 / $1.1 } / Double(row.accuracies.count)
            line += String(format: "%7.1f%7.1f", 100 * average, 100 * normalized) + row.seconds.leftPadded(9)
            print(line)
        }
        print("alpha: chosen on validation data (mean normalized accuracy), the method's grid in order, stopped after "
              + "\(AlphaSelection.patience) candidates without improvement, the grid continued with its step at an unsettled "
              + "edge; averaging is the mean (α = 1). grid: the chosen α is the k-th of the grid's N values (k/N), or k steps "
              + "above or below the grid. * = the optimum may lie outside what was tried (alpha-METHOD.json has the notes)")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
