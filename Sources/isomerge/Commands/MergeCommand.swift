import Foundation
import IsoMerge

/// `isomerge merge`: merge checkpoints with one method, optionally choosing α with the user's
/// evaluator. Settings come from `--config FILE` (a JSON object keyed by the long flag names with
/// `_` for `-`) and from flags, which win.
enum MergeCommand {
    static let help = """
        usage: isomerge merge --method METHOD --base BASE --models FT1 FT2 ... --output OUT [options]

        Merges fine-tuned checkpoints of one base model into one multi-task checkpoint.
        METHOD: average, task_arithmetic, ties, tsv_m, iso_c, iso_cts (dashes accepted: iso-cts).
        BASE, FT and OUT are .safetensors files, directories or shard indexes (OUT: a .safetensors path,
        or a directory that receives model.safetensors or shards).

          --alpha A                scaling of the merged task vector (default per method: iso_c 1.3,
                                   iso_cts 1.5, tsv_m 1.0, ties 1.0, task_arithmetic 0.3, average 1.0)
          --common-fraction F      iso_cts: share of the rank for the common subspace (default 0.8)
          --density D              ties: share of entries each task keeps (default 0.2)
          --ties-per-tensor        ties: trim per tensor (mergekit) instead of over the whole model
          --exclude SUBSTRING ...  2-D tensors whose name contains one of these use the vector rule
                                   (default: text_projection)
          --precision P            float32 (default) or float64 arithmetic
          --output-dtype D         same (default), F32, F16, BF16 or F64
          --shard-size BYTES       write shards of at most BYTES (OUT must be a directory)
          --threads N              cores to use (default: all)
          --save-task-vector PATH  also write the merged task vector (apply it later with 'isomerge apply')
          --alpha-grid A:B:STEP    choose α: try A, A+STEP, … B with the evaluator, keep the best
          --evaluate 'CMD {checkpoint}'
                                   evaluator run per candidate ({checkpoint}: its path, also in
                                   $ISOMERGE_CHECKPOINT); the last line of its stdout is the score
                                   (higher is better); stops after 3 candidates without improvement,
                                   extending the grid with the same step at an edge (docs: README)
          --search-report FILE     write the α search's scores and outcome as JSON (also what
                                   'isomerge analyze --alpha-report' plots)
          --config FILE            settings as JSON, e.g. {"method": "iso_c", "models": ["a", "b"]}
          --print-config           print the effective settings as JSON and exit
          --overwrite              replace an existing output (never an input)
          --quiet                  print only errors and warnings

        example: isomerge merge --method iso_cts --base base.safetensors --models ft_*.safetensors --output merged.safetensors
        """

    static let options: Set<String> = ["method", "base", "output", "alpha", "common-fraction", "density", "precision",
                                       "output-dtype", "shard-size", "threads", "save-task-vector", "alpha-grid",
                                       "evaluate", "search-report", "config"]
    static let multiValued: Set<String> = ["models", "exclude"]
    static let flags: Set<String> = ["help", "print-config", "overwrite", "quiet", "ties-per-tensor"]

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, options: options, multiValued: multiValued, flags: flags)
        if parsed.has("help") {
            print(help)
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help)") }
        var settings = MergeSettings()
        if let config = try parsed.value("config") { try settings.load(config: config) }
        try settings.apply(parsed)
        if parsed.has("print-config") {
            print(settings.json)
            return
        }
        try settings.merge()
    }
}

/// The effective settings of a merge, from a config file and flags.
struct MergeSettings {
    var method: String?
    var base: String?
    var models: [String] = []
    var output: String?
    var alpha: Double?
    var commonFraction: Double?
    var density: Double?
    var tiesPerTensor = false
    var exclude: [String]?
    var precision = "float32"
    var outputDType = "same"
    var shardSize: Int?
    var threads: Int?
    var saveTaskVector: String?
    var alphaGrid: String?
    var evaluate: String?
    var searchReport: String?
    var overwrite = false
    var quiet = false

    static let keys = ["method", "base", "models", "output", "alpha", "common_fraction", "density", "ties_per_tensor",
                       "exclude", "precision", "output_dtype", "shard_size", "threads", "save_task_vector", "alpha_grid",
                       "evaluate", "search_report", "overwrite", "quiet"]

    /// Reads a JSON config; unknown keys and wrong types are usage errors naming the key.
    mutating func load(config path: String) throws {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 64 << 20) } catch { throw UsageError("cannot read config file \(path): \(error.message)") }
        let root: JSONValue
        do { root = try JSONValue.parse(bytes) } catch { throw UsageError("\(path): not valid JSON: \(error)") }
        guard case let .object(members) = root else { throw UsageError("\(path): the config must be a JSON object") }
        for (key, value) in members {
            func string() throws -> String {
                guard case let .string(text) = value else { throw UsageError("\(path): \"\(key)\" must be a string, not \(value.kind)") }
                return text
            }
            func number() throws -> Double {
                guard let number = value.double else { throw UsageError("\(path): \"\(key)\" must be a number, not \(value.kind)") }
                return number
            }
            func integer() throws -> Int {
                guard let number = value.nonNegativeInteger else { throw UsageError("\(path): \"\(key)\" must be a non-negative integer") }
                return number
            }
            func bool() throws -> Bool {
                guard case let .bool(flag) = value else { throw UsageError("\(path): \"\(key)\" must be true or false, not \(value.kind)") }
                return flag
            }
            func strings() throws -> [String] {
                guard case let .array(items) = value else { throw UsageError("\(path): \"\(key)\" must be a list of strings") }
                return try items.map { item in
                    guard case let .string(text) = item else { throw UsageError("\(path): \"\(key)\" must be a list of strings") }
                    return text
                }
            }
            switch key {
            case "method": method = try string()
            case "base": base = try string()
            case "models": models = try strings()
            case "output": output = try string()
            case "alpha": alpha = try number()
            case "common_fraction": commonFraction = try number()
            case "density": density = try number()
            case "ties_per_tensor": tiesPerTensor = try bool()
            case "exclude": exclude = try strings()
            case "precision": precision = try string()
            case "output_dtype": outputDType = try string()
            case "shard_size": shardSize = try integer()
            case "threads": threads = try integer()
            case "save_task_vector": saveTaskVector = try string()
            case "alpha_grid": alphaGrid = try string()
            case "evaluate": evaluate = try string()
            case "search_report": searchReport = try string()
            case "overwrite": overwrite = try bool()
            case "quiet": quiet = try bool()
            default:
                throw UsageError("\(path): unknown key \"\(key)\" (known: \(MergeSettings.keys.joined(separator: ", ")))")
            }
        }
    }

    /// Flags override the config.
    mutating func apply(_ parsed: Arguments) throws {
        func number(_ name: String) throws -> Double? {
            guard let text = try parsed.value(name) else { return nil }
            guard let value = Double(text), value.isFinite else { throw UsageError("--\(name) must be a number, not '\(text)'") }
            return value
        }
        func integer(_ name: String) throws -> Int? {
            guard let text = try parsed.value(name) else { return nil }
            guard let value = Int(text), value >= 0 else { throw UsageError("--\(name) must be a non-negative integer, not '\(text)'") }
            return value
        }
        method = try parsed.value("method") ?? method
        base = try parsed.value("base") ?? base
        if !parsed.all("models").isEmpty { models = parsed.all("models") }
        output = try parsed.value("output") ?? output
        alpha = try number("alpha") ?? alpha
        commonFraction = try number("common-fraction") ?? commonFraction
        density = try number("density") ?? density
        if parsed.has("ties-per-tensor") { tiesPerTensor = true }
        if !parsed.all("exclude").isEmpty { exclude = parsed.all("exclude") }
        precision = try parsed.value("precision") ?? precision
        outputDType = try parsed.value("output-dtype") ?? outputDType
        shardSize = try integer("shard-size") ?? shardSize
        threads = try integer("threads") ?? threads
        saveTaskVector = try parsed.value("save-task-vector") ?? saveTaskVector
        alphaGrid = try parsed.value("alpha-grid") ?? alphaGrid
        evaluate = try parsed.value("evaluate") ?? evaluate
        searchReport = try parsed.value("search-report") ?? searchReport
        if parsed.has("overwrite") { overwrite = true }
        if parsed.has("quiet") { quiet = true }
    }

    /// The effective settings as a config file would hold them.
    var json: String {
        var members: [(key: String, value: JSONValue)] = []
        func add(_ key: String, _ value: JSONValue?) { if let value { members.append((key, value)) } }
        func number(_ x: Double?) -> JSONValue? { x.map { .number(String($0)) } }
        add("method", method.map { .string($0) })
        add("base", base.map { .string($0) })
        add("models", .array(models.map { .string($0) }))
        add("output", output.map { .string($0) })
        add("alpha", number(alpha))
        add("common_fraction", number(commonFraction))
        add("density", number(density))
        add("ties_per_tensor", .bool(tiesPerTensor))
        add("exclude", exclude.map { .array($0.map { .string($0) }) })
        add("precision", .string(precision))
        add("output_dtype", .string(outputDType))
        add("shard_size", shardSize.map { .number(String($0)) })
        add("threads", threads.map { .number(String($0)) })
        add("save_task_vector", saveTaskVector.map { .string($0) })
        add("alpha_grid", alphaGrid.map { .string($0) })
        add("evaluate", evaluate.map { .string($0) })
        add("search_report", searchReport.map { .string($0) })
        add("overwrite", .bool(overwrite))
        add("quiet", .bool(quiet))
        return "{\n" + members.map { "  \(JSONValue.quote($0.key)): \($0.value.serialized)" }.joined(separator: ",\n") + "\n}"
    }

    /// Checks the settings and builds the library's options.
    func options() throws -> MergeOptions {
        guard let name = method else { throw UsageError("--method is required (average, task_arithmetic, ties, tsv_m, iso_c, iso_cts)") }
        guard let method = MergeMethod(name: name) else {
            throw UsageError("unknown method '\(name)' (choose average, task_arithmetic, ties, tsv_m, iso_c or iso_cts)")
        }
        var options = MergeOptions(method: method)
        options.alpha = alpha
        if let density {
            guard density > 0 && density <= 1 else {
                throw UsageError("--density must be in (0, 1] (the share of entries each task keeps, e.g. 0.2), not \(density)")
            }
            options.density = density
        }
        if let commonFraction {
            guard commonFraction >= 0 && commonFraction <= 1 else {
                throw UsageError("--common-fraction must be in [0, 1] (the share of the rank for the common subspace, e.g. 0.8), "
                                 + "not \(commonFraction)")
            }
            options.commonFraction = commonFraction
        }
        options.tiesPerTensor = tiesPerTensor
        if let exclude { options.excludedSubstrings = exclude }
        switch precision {
        case "float32": options.doublePrecision = false
        case "float64": options.doublePrecision = true
        default: throw UsageError("--precision must be float32 or float64, not '\(precision)'")
        }
        switch outputDType.uppercased() {
        case "SAME": options.outputDType = nil
        case "F32", "F16", "BF16", "F64": options.outputDType = DType(rawValue: outputDType.uppercased())
        default: throw UsageError("--output-dtype must be same, F32, F16, BF16 or F64, not '\(outputDType)'")
        }
        if let threads {
            guard threads >= 1 else { throw UsageError("--threads must be at least 1") }
            options.threads = threads
        }
        if let shardSize, shardSize < 1 { throw UsageError("--shard-size must be a positive number of bytes") }
        return options
    }

    /// Parameters given that the method does not use.
    func ignoredParameters(for method: MergeMethod) -> [String] {
        var ignored: [String] = []
        if density != nil && method != .ties { ignored.append("--density is used only by ties") }
        if tiesPerTensor && method != .ties { ignored.append("--ties-per-tensor is used only by ties") }
        if commonFraction != nil && method != .isoCTS { ignored.append("--common-fraction is used only by iso_cts") }
        if exclude != nil && !method.usesMatrixPath { ignored.append("--exclude matters only to tsv_m, iso_c and iso_cts") }
        if alpha != nil && alphaGrid != nil { ignored.append("--alpha is replaced by the --alpha-grid search") }
        return ignored
    }

    /// Runs the merge (or the α search). Every output rule is checked before any work.
    func merge() throws {
        let options = try options()
        guard let base else { throw UsageError("--base is required") }
        guard !models.isEmpty else { throw UsageError("--models needs at least one fine-tuned checkpoint") }
        guard let output else { throw UsageError("--output is required") }
        if (alphaGrid == nil) != (evaluate == nil) { throw UsageError("--alpha-grid and --evaluate go together") }
        if searchReport != nil && alphaGrid == nil { throw UsageError("--search-report reports an α search: give --alpha-grid and --evaluate") }
        let grid = try alphaGrid.map(parseGrid)
        let evaluator = try evaluate.map { text throws(UsageError) in try EvaluatorCommand(text) }
        if let saveTaskVector, OutputTarget(output).overlaps(OutputTarget(saveTaskVector)) {
            throw UsageError("--output \(output) and --save-task-vector \(saveTaskVector) would write over each other; give two separate places")
        }
        for warning in ignoredParameters(for: options.method) { printError("warning: \(warning); ignored for \(options.method.rawValue)") }
        let baseCheckpoint = try Checkpoint(path: base)
        let modelCheckpoints = try models.map { try Checkpoint(path: $0) }
        for warning in Self.repeatedInputs(base: baseCheckpoint, models: modelCheckpoints) { printError("warning: \(warning)") }
        let inputs = [baseCheckpoint] + modelCheckpoints
        for path in [output] + (saveTaskVector.map { [$0] } ?? []) {
            try OutputTarget(path).check(overwrite: overwrite, inputs: inputs)
        }
        let engine = try MergeEngine(base: baseCheckpoint, models: modelCheckpoints, options: options)
        let progress = TerminalProgress(quiet: quiet)
        engine.progress = { progress.update($0) }
        var metadata = provenance(options: options)
        let start = Date()
        if let grid, let evaluator {
            let result = try AlphaSearch(engine: engine, grid: grid, evaluator: evaluator, output: output,
                                         outputDType: options.outputDType, shardSize: shardSize, overwrite: overwrite,
                                         metadata: metadata, saveTaskVector: saveTaskVector, progress: progress).run()
            for note in result.search.notes { printError("note: α search: \(note)") }
            if let searchReport {
                let report = AlphaReport(method: options.method, search: result.search).json + "\n"
                do {
                    try Data(report.utf8).write(to: URL(fileURLWithPath: searchReport), options: .atomic)
                } catch {
                    throw RuntimeError("\(searchReport): cannot write the α search report: \(error.localizedDescription)")
                }
            }
            if !quiet { print(result.table) }
            summary(start: start, outputs: result.outputPaths)
            return
        }
        metadata["isomerge.alpha"] = String(options.effectiveAlpha)
        guard let saveTaskVector else {
            let report = try engine.merge(to: output, metadata: metadata, maximumShardBytes: shardSize, overwrite: overwrite)
            progress.finish()
            summary(start: start, outputs: report.outputPaths)
            return
        }
        // τ_M once, then the checkpoint from it (reading and writing only): merging twice would
        // double the SVD work. The same values as a plain merge (τ_M is stored exactly, F32 or F64,
        // and θ₀ + α·τ is evaluated alike); only a frozen tensor's −0.0 would come out +0.0.
        // τ_M is staged and published after the checkpoint, so a run that fails leaves neither.
        let stagedTaskVector = try StagedOutput(saveTaskVector)
        _ = try engine.writeTaskVector(to: stagedTaskVector.path, metadata: metadata, overwrite: true)
        progress.finish()
        let report = try MergeEngine.apply(base: baseCheckpoint, taskVector: try Checkpoint(path: stagedTaskVector.path),
                                           alpha: options.effectiveAlpha, to: output, outputDType: options.outputDType,
                                           metadata: metadata, maximumShardBytes: shardSize, overwrite: overwrite,
                                           progress: { progress.update($0) })
        progress.finish()
        try stagedTaskVector.publish(overwrite: overwrite)
        summary(start: start, outputs: report.outputPaths)
    }

    /// Warnings for a checkpoint given twice among the models, or the base given as a model
    /// (the same files, also through links): likely mistakes, though the merge is well defined.
    static func repeatedInputs(base: Checkpoint, models: [Checkpoint]) -> [String] {
        func identity(_ checkpoint: Checkpoint) -> Set<FileIdentity> { Set(checkpoint.sourceFiles.compactMap(FileIdentity.init)) }
        let baseIdentity = identity(base)
        var warnings: [String] = []
        var seen: [Set<FileIdentity>: String] = [:]
        for model in models {
            let files = identity(model)
            if files == baseIdentity {
                warnings.append("the model \(model.path) is the base \(base.path); its task vector is zero and dilutes the merge")
            } else if let first = seen[files] {
                warnings.append("the model \(model.path) is given twice (also as \(first)); its task counts twice in the merge")
            } else {
                seen[files] = model.path
            }
        }
        return warnings
    }

    func summary(start: Date, outputs: [String]) {
        guard !quiet else { return }
        let size = outputs.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        print(String(format: "merged in %.2f s, peak memory %@, wrote %@ to %@", Date().timeIntervalSince(start),
                     formatBytes(peakMemoryBytes()), formatBytes(size), outputs.joined(separator: ", ")))
    }

    /// What produced the checkpoint, stored in its `__metadata__`.
    func provenance(options: MergeOptions) -> [String: String] {
        var metadata = ["isomerge.version": IsoMerge.version, "isomerge.method": options.method.rawValue,
                        "isomerge.base": base ?? "", "isomerge.models": JSONValue.array(models.map { .string($0) }).serialized,
                        "isomerge.precision": precision]
        switch options.method {
        case .ties:
            metadata["isomerge.density"] = String(options.density)
            metadata["isomerge.ties_scope"] = options.tiesPerTensor ? "per_tensor" : "whole_model"
        case .isoCTS: metadata["isomerge.common_fraction"] = String(options.commonFraction)
        default: break
        }
        if options.method.usesMatrixPath {
            metadata["isomerge.exclude"] = JSONValue.array(options.excludedSubstrings.map { .string($0) }).serialized
        }
        return metadata
    }

    /// START:STOP:STEP, inclusive of STOP.
    func parseGrid(_ text: String) throws -> [Double] {
        let parts = text.split(separator: ":").map { Double($0) }
        guard parts.count == 3, let start = parts[0], let stop = parts[1], let step = parts[2], step > 0, stop >= start,
              start.isFinite, stop.isFinite else {
            throw UsageError("--alpha-grid must be START:STOP:STEP with STEP > 0 and STOP ≥ START, e.g. 0.1:3.0:0.1, not '\(text)'")
        }
        let count = Int(((stop - start) / step + 1e-9).rounded(.down)) + 1
        guard count <= 10_000 else { throw UsageError("--alpha-grid has \(count) values; at most 10000") }
        return (0..<count).map { ((start + Double($0) * step) * 1e10).rounded() / 1e10 }
    }
}
