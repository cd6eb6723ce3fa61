import Foundation
import IsoMerge

/// `isomerge merge`: merge checkpoints with one method, optionally choosing α with the user's
/// evaluator. Settings come from `--config FILE` (a JSON object keyed by the long flag names with
/// `_` for `-`) and from flags, which win. The methods, their hyper-parameters (flags, config keys,
/// help, validation) and what the output records of them come from the registry of merge rules.
enum MergeCommand {
    static func help(rules: MergeRules) -> String {
        let methods = rules.all.map { "  " + $0.name.padding(toLength: 17, withPad: " ", startingAt: 0) + $0.summary
            + " (default α \($0.defaultAlpha))" }
        let parameters = rules.parameters.map { parameter, users -> String in
            let usage: String
            switch parameter.kind {
            case .number: usage = parameter.flag + " X"
            case .flag: usage = parameter.flag
            case .strings: usage = parameter.flag + " S ..."
            }
            let defaultText: String
            switch parameter.defaultValue {
            case let .number(x): defaultText = " (default \(x))"
            case .flag: defaultText = ""
            case let .strings(items): defaultText = " (default: " + (items.isEmpty ? "none" : items.joined(separator: " ")) + ")"
            }
            return "  " + usage.padding(toLength: 25, withPad: " ", startingAt: 0) + MergeRules.list(users) + ": "
                + parameter.meaning + defaultText
        }
        return """
            usage: isomerge merge --method METHOD --base BASE --models FT1 FT2 ... --output OUT [options]
                   isomerge merge --method METHOD --adapters DIR1 DIR2 ... [--base BASE] --output OUT | --output-adapter DIR

            Merges fine-tuned checkpoints of one base model into one multi-task checkpoint.
            BASE, FT and OUT are .safetensors files, directories or shard indexes (OUT: a .safetensors path,
            or a directory that receives model.safetensors or shards).

            METHOD (dashes accepted: iso-cts):
            \(methods.joined(separator: "\n"))

            method parameters:
            \(parameters.joined(separator: "\n"))

              --adapters DIR ...       merge PEFT LoRA adapters instead of checkpoints, exactly as their densified
                                       checkpoints would merge (docs/ADAPTERS.md); --output then needs --base
              --output-adapter DIR     write the merge as a PEFT adapter (with --adapters; --base optional,
                                       except for --alpha-grid and --save-task-vector)
              --adapter-rank R         keep the best rank-R approximation of each module (needed for ties)
              --alpha A                scaling of the merged task vector (default: the method's α above)
              --precision P            auto (default: float64 where a merged tensor is written as F16 or
                                       BF16, float32 otherwise), float32 or float64 arithmetic
              --output-dtype D         same (default), F32, F16, BF16 or F64
              --shard-size BYTES       write shards of at most BYTES (OUT must be a directory)
              --part I/N               write only part I of N of the sharded output (a directory, with
                                       --shard-size): one of N processes or machines sharing the work
              --finish N               after parts 1/N … N/N: check them and write the index, which
                                       completes the checkpoint (same settings as the parts)
              --threads N              cores to use (default: all)
              --save-task-vector PATH  also write the merged task vector (apply it later with 'isomerge apply')
              --alpha-grid A:B:STEP    choose α: try A, A+STEP, … B with the evaluator, keep the best
                                       (decimals or fractions: 0.1:3.0:0.1, 1/30:1:1/30)
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
    }

    static func run(_ arguments: [String], rules: MergeRules = .standard) throws {
        var options: Set<String> = ["method", "base", "output", "alpha", "precision", "output-dtype", "shard-size", "threads",
                                    "save-task-vector", "alpha-grid", "evaluate", "search-report", "config", "part", "finish",
                                    "output-adapter", "adapter-rank"]
        var multiValued: Set<String> = ["models", "adapters"]
        var flags: Set<String> = ["help", "print-config", "overwrite", "quiet"]
        for (parameter, _) in rules.parameters {
            switch parameter.kind {
            case .number: options.insert(parameter.name)
            case .flag: flags.insert(parameter.name)
            case .strings: multiValued.insert(parameter.name)
            }
        }
        let parsed = try Arguments(arguments, options: options, multiValued: multiValued, flags: flags)
        if parsed.has("help") {
            print(help(rules: rules))
            return
        }
        guard parsed.positional.isEmpty else { throw UsageError("unexpected argument '\(parsed.positional[0])'\n\n\(help(rules: rules))") }
        var settings = MergeSettings(rules: rules)
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
    let rules: MergeRules
    var method: String?
    var base: String?
    var models: [String] = []
    /// PEFT adapter directories merged instead of `models`.
    var adapters: [String] = []
    var output: String?
    var outputAdapter: String?
    var adapterRank: Int?
    var alpha: Double?
    /// The method parameters given, by parameter name; the rest take their defaults.
    var parameters: [String: MergeParameterValue] = [:]
    var precision = "auto"
    var outputDType = "same"
    var shardSize: Int?
    /// "I/N": write only part I of N (`--part`).
    var part: String?
    /// N: finish a merge written in N parts (`--finish`).
    var finish: Int?
    var threads: Int?
    var saveTaskVector: String?
    var alphaGrid: String?
    var evaluate: String?
    var searchReport: String?
    var overwrite = false
    var quiet = false

    init(rules: MergeRules = .standard) { self.rules = rules }

    /// The config file's keys: the merge's own, then every rule parameter's.
    var keys: [String] {
        ["method", "base", "models", "adapters", "output", "output_adapter", "adapter_rank", "alpha", "precision", "output_dtype",
         "shard_size", "part", "finish", "threads", "save_task_vector",
         "alpha_grid", "evaluate", "search_report", "overwrite", "quiet"] + rules.parameters.map(\.parameter.configKey)
    }

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
            case "adapters": adapters = try strings()
            case "output": output = try string()
            case "output_adapter": outputAdapter = try string()
            case "adapter_rank": adapterRank = try integer()
            case "alpha": alpha = try number()
            case "precision": precision = try string()
            case "output_dtype": outputDType = try string()
            case "shard_size": shardSize = try integer()
            case "part": part = try string()
            case "finish": finish = try integer()
            case "threads": threads = try integer()
            case "save_task_vector": saveTaskVector = try string()
            case "alpha_grid": alphaGrid = try string()
            case "evaluate": evaluate = try string()
            case "search_report": searchReport = try string()
            case "overwrite": overwrite = try bool()
            case "quiet": quiet = try bool()
            default:
                guard let parameter = rules.parameters.first(where: { $0.parameter.configKey == key })?.parameter else {
                    throw UsageError("\(path): unknown key \"\(key)\" (known: \(keys.joined(separator: ", ")))")
                }
                switch parameter.kind {
                case .number: parameters[parameter.name] = .number(try number())
                case .flag: parameters[parameter.name] = .flag(try bool())
                case .strings: parameters[parameter.name] = .strings(try strings())
                }
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
        if !parsed.all("adapters").isEmpty { adapters = parsed.all("adapters") }
        output = try parsed.value("output") ?? output
        outputAdapter = try parsed.value("output-adapter") ?? outputAdapter
        adapterRank = try integer("adapter-rank") ?? adapterRank
        alpha = try number("alpha") ?? alpha
        for (parameter, _) in rules.parameters {
            switch parameter.kind {
            case .number: if let x = try number(parameter.name) { parameters[parameter.name] = .number(x) }
            case .flag: if parsed.has(parameter.name) { parameters[parameter.name] = .flag(true) }
            case .strings: if !parsed.all(parameter.name).isEmpty { parameters[parameter.name] = .strings(parsed.all(parameter.name)) }
            }
        }
        precision = try parsed.value("precision") ?? precision
        outputDType = try parsed.value("output-dtype") ?? outputDType
        shardSize = try integer("shard-size") ?? shardSize
        part = try parsed.value("part") ?? part
        finish = try integer("finish") ?? finish
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
        add("method", method.map { .string($0) })
        add("base", base.map { .string($0) })
        add("models", .array(models.map { .string($0) }))
        if !adapters.isEmpty { add("adapters", .array(adapters.map { .string($0) })) }
        add("output", output.map { .string($0) })
        add("output_adapter", outputAdapter.map { .string($0) })
        add("adapter_rank", adapterRank.map { .number(String($0)) })
        add("alpha", alpha.map { .number(String($0)) })
        for (parameter, _) in rules.parameters { add(parameter.configKey, parameters[parameter.name]?.json) }
        add("precision", .string(precision))
        add("output_dtype", .string(outputDType))
        add("shard_size", shardSize.map { .number(String($0)) })
        add("part", part.map { .string($0) })
        add("finish", finish.map { .number(String($0)) })
        add("threads", threads.map { .number(String($0)) })
        add("save_task_vector", saveTaskVector.map { .string($0) })
        add("alpha_grid", alphaGrid.map { .string($0) })
        add("evaluate", evaluate.map { .string($0) })
        add("search_report", searchReport.map { .string($0) })
        add("overwrite", .bool(overwrite))
        add("quiet", .bool(quiet))
        return "{\n" + members.map { "  \(JSONValue.quote($0.key)): \($0.value.serialized)" }.joined(separator: ",\n") + "\n}"
    }

    /// The rule the settings name, with the parameters given that it declares.
    func rule() throws(UsageError) -> any MergeRule {
        guard let name = method else { throw UsageError("--method is required (\(MergeRules.list(rules.names)))") }
        do {
            return try rules.make(name, given: parameters, ignoringUndeclared: true)
        } catch {
            throw UsageError(error.description)
        }
    }

    /// Checks the settings and builds the library's options.
    func options() throws -> MergeOptions {
        var options = MergeOptions(rule: try rule())
        options.alpha = alpha
        if precision != "auto" {
            guard let precision = Precision(rawValue: precision) else {
                throw UsageError("--precision must be auto, float32 or float64, not '\(self.precision)'")
            }
            options.precision = precision
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

    /// Parameters given that the method does not declare.
    func ignoredParameters(for rule: any MergeRule) -> [String] {
        let declared = Set(type(of: rule).parameters.map(\.name))
        var ignored = rules.parameters.filter { parameters[$0.parameter.name] != nil && !declared.contains($0.parameter.name) }
            .map { "\($0.parameter.flag) is used only by \(MergeRules.list($0.rules))" }
        if alpha != nil && alphaGrid != nil { ignored.append("--alpha is replaced by the --alpha-grid search") }
        return ignored
    }

    /// Runs the merge (or the α search). Every output rule is checked before any work.
    func merge() throws {
        let options = try options()
        if !adapters.isEmpty || outputAdapter != nil || adapterRank != nil { return try mergeAdapters(options: options) }
        guard let base else { throw UsageError("--base is required") }
        guard !models.isEmpty else { throw UsageError("--models needs at least one fine-tuned checkpoint") }
        guard let output else { throw UsageError("--output is required") }
        if (alphaGrid == nil) != (evaluate == nil) { throw UsageError("--alpha-grid and --evaluate go together") }
        if searchReport != nil && alphaGrid == nil { throw UsageError("--search-report reports an α search: give --alpha-grid and --evaluate") }
        let grid = try alphaGrid.map(parseGrid)
        let evaluator = try evaluate.map { text throws(UsageError) in try EvaluatorCommand(text) }
        let split = try splitMode(output: output)
        if let saveTaskVector, OutputTarget(output).overlaps(OutputTarget(saveTaskVector)) {
            throw UsageError("--output \(output) and --save-task-vector \(saveTaskVector) would write over each other; give two separate places")
        }
        for warning in ignoredParameters(for: options.rule) { printError("warning: \(warning); ignored for \(options.rule.name)") }
        let baseCheckpoint = try Checkpoint(path: base)
        let modelCheckpoints = try models.map { try Checkpoint(path: $0) }
        for warning in Self.repeatedInputs(base: baseCheckpoint, models: modelCheckpoints) { printError("warning: \(warning)") }
        let inputs = [baseCheckpoint] + modelCheckpoints
        for path in [output] + (saveTaskVector.map { [$0] } ?? []) where split == nil {
            try OutputTarget(path).check(overwrite: overwrite, inputs: inputs)
        }
        let engine = try MergeEngine(base: baseCheckpoint, models: modelCheckpoints, options: options)
        let progress = TerminalProgress(quiet: quiet)
        engine.progress = { progress.update($0) }
        var metadata = provenance(options: options, precision: engine.plan.precision)
        let start = Date()
        if let grid, let evaluator {
            let search = AlphaSearch(base: baseCheckpoint, inputs: inputs, writeTaskVector: { path, metadata in
                try engine.writeTaskVector(to: path, metadata: metadata)
            }, grid: grid, evaluator: evaluator, output: output, scratchBeside: OutputTarget(output), outputDType: options.outputDType,
               shardSize: shardSize, overwrite: overwrite, metadata: metadata, saveTaskVector: saveTaskVector, progress: progress)
            let result = try run(search, method: options.rule.name)
            summary(start: start, outputs: result.outputPaths)
            return
        }
        metadata["isomerge.alpha"] = String(options.effectiveAlpha)
        if let split, let shardSize {
            let outputs: [String]
            switch split {
            case let .part(index, parts):
                let partition = try engine.partition(parts: parts, maximumShardBytes: shardSize)
                if partition.shards(of: index).isEmpty {
                    printError("warning: part \(index) of \(parts) owns no shard (the output has \(partition.shards.count)); "
                               + "it only records that it ran; a smaller --shard-size gives every part work")
                }
                if !quiet { print(Self.plan(of: partition, part: index)) }
                outputs = try engine.mergePart(index, of: parts, to: output, metadata: metadata, maximumShardBytes: shardSize,
                                               overwrite: overwrite).outputPaths
                progress.finish()
            case let .finish(parts):
                outputs = try engine.finishParts(parts, in: output, metadata: metadata, maximumShardBytes: shardSize, overwrite: overwrite)
            }
            summary(start: start, outputs: outputs)
            return
        }
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

    /// What a split merge's run does.
    enum SplitMode {
        /// Writes part `index` (1…`parts`).
        case part(index: Int, parts: Int)
        /// Checks the parts and writes the index.
        case finish(parts: Int)
    }

    /// Runs an α search, then reports it: notes on stderr, the JSON report (`--search-report`), the table.
    func run(_ search: AlphaSearch, method: String) throws -> AlphaSearch.Result {
        let result = try search.run()
        for note in result.search.notes { printError("note: α search: \(note)") }
        if let searchReport {
            let report = AlphaReport(method: method, search: result.search).json + "\n"
            do {
                try Data(report.utf8).write(to: URL(fileURLWithPath: searchReport), options: .atomic)
            } catch {
                throw RuntimeError("\(searchReport): cannot write the α search report: \(error.localizedDescription)")
            }
        }
        if !quiet { print(result.table) }
        return result
    }

    /// `--part` or `--finish`, checked against the other settings (nil: a whole merge).
    func splitMode(output: String) throws(UsageError) -> SplitMode? {
        let mode: SplitMode
        switch (part, finish) {
        case (nil, nil): return nil
        case (_?, _?): throw UsageError("--part and --finish are separate runs: each part, then the finishing step")
        case let (text?, nil):
            let fields = text.split(separator: "/", omittingEmptySubsequences: false)
            guard fields.count == 2, let index = Int(fields[0]), let parts = Int(fields[1]), parts >= 1, (1...parts).contains(index) else {
                throw UsageError("--part must be I/N with 1 ≤ I ≤ N (e.g. 2/8), not '\(text)'")
            }
            mode = .part(index: index, parts: parts)
        case let (nil, parts?):
            guard parts >= 1 else { throw UsageError("--finish must be the number of parts, at least 1") }
            mode = .finish(parts: parts)
        }
        let flag = part != nil ? "--part" : "--finish"
        guard shardSize != nil else {
            throw UsageError("\(flag) splits a sharded output by whole shards: give --shard-size (the same for every part and the finishing step)")
        }
        guard OutputTarget(output).kind == .directory else {
            throw UsageError("\(flag): --output must be a directory (a sharded checkpoint), not the file \(output)")
        }
        if alphaGrid != nil { throw UsageError("\(flag) cannot run an α search (--alpha-grid): choose α first, then split the merge") }
        if saveTaskVector != nil { throw UsageError("\(flag) cannot write --save-task-vector: a split merge writes the checkpoint only") }
        return mode
    }

    /// One line on a part's share: its shards and the estimated costs (`TensorCost`) of it, of
    /// the busiest part (the split merge's wall time) and of the costliest shard (its floor).
    static func plan(of partition: MergePartition, part: Int) -> String {
        let total = Double(max(1, partition.shards.reduce(0) { $0 + $1.cost }))
        let busiest = (1...partition.parts).map(partition.cost(of:)).max()!
        func share(_ cost: Int) -> String { String(format: "%.1f %%", 100 * Double(cost) / total) }
        let shards = partition.shards.indices.filter { partition.shards[$0].part == part }.map { String($0 + 1) }
        return "part \(part) of \(partition.parts): shards \(shards.isEmpty ? "none" : shards.joined(separator: ", ")) of "
            + "\(partition.shards.count), estimated \(share(partition.cost(of: part))) of the merge's cost; busiest part "
            + "\(share(busiest)), costliest shard \(share(partition.shards.map(\.cost).max()!))"
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

    /// What produced the checkpoint, stored in its `__metadata__`: the tool, the inputs, and the
    /// method with every parameter it declares.
    func provenance(options: MergeOptions, precision: Precision) -> [String: String] {
        ["isomerge.version": IsoMerge.version, "isomerge.method": options.rule.name, "isomerge.base": base ?? "",
         "isomerge.models": JSONValue.array(models.map { .string($0) }).serialized, "isomerge.precision": precision.rawValue]
            .merging(options.rule.provenance) { first, _ in first }
    }

    /// START:STOP:STEP, inclusive of STOP; each a decimal or a fraction P/Q (the paper's 1/30:1:1/30),
    /// the grid's values rounded to 10 decimals (so 15 steps of 1/30 are 0.5).
    func parseGrid(_ text: String) throws -> [Double] {
        func number(_ part: Substring) -> Double? {
            let halves = part.split(separator: "/", omittingEmptySubsequences: false)
            guard halves.count == 2 else { return Double(part) }
            guard let p = Double(halves[0]), let q = Double(halves[1]), q != 0 else { return nil }
            return p / q
        }
        let parts = text.split(separator: ":").map(number)
        guard parts.count == 3, let start = parts[0], let stop = parts[1], let step = parts[2], step > 0, stop >= start,
              start.isFinite, stop.isFinite else {
            throw UsageError("--alpha-grid must be START:STOP:STEP with STEP > 0 and STOP ≥ START, each a decimal or a fraction, "
                             + "e.g. 0.1:3.0:0.1 or 1/30:1:1/30, not '\(text)'")
        }
        let count = Int(((stop - start) / step + 1e-9).rounded(.down)) + 1
        guard count <= 10_000 else { throw UsageError("--alpha-grid has \(count) values; at most 10000") }
        return (0..<count).map { ((start + Double($0) * step) * 1e10).rounded() / 1e10 }
    }
}
