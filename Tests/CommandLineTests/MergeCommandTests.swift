import Foundation
import IsoMerge
import IsoMergePlot
import XCTest

/// `isomerge merge`, `apply`, `svd` and `demo` run as a user runs them: spawned, checked by exit
/// status, output files and messages.
final class MergeCommandTests: CommandLineTestCase {
    func testEveryMethodMatchesTheLibrary() throws {
        let (base, models) = try models()
        for rule in MergeRules.standard.all {
            let method = rule.name
            let cli = directory + "/cli-\(method).safetensors"
            let result = try Isomerge.run(["merge", "--method", method.replacingOccurrences(of: "_", with: "-"),
                                           "--base", base, "--models"] + models + ["--output", cli, "--quiet"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "", "--quiet prints nothing")
            let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) },
                                         options: MergeOptions(rule: try rule.init(given: [:])))
            let library = directory + "/lib-\(method).safetensors"
            _ = try engine.merge(to: library)
            let (ours, theirs) = (try Checkpoint(path: cli), try Checkpoint(path: library))
            for (_, entry) in theirs.tensors {
                XCTAssertEqual(try ours.rawBytes(of: entry.name), try theirs.rawBytes(of: entry.name), "\(method) \(entry.name)")
            }
            let metadata = Dictionary(uniqueKeysWithValues: ours.metadata.map { ($0.key, $0.value) })
            XCTAssertEqual(metadata["isomerge.method"], method)
            XCTAssertEqual(metadata["isomerge.alpha"], String(rule.defaultAlpha))
            XCTAssertEqual(metadata["isomerge.version"], IsoMerge.version)
            XCTAssertTrue(metadata["isomerge.models"]?.contains("ft_2.safetensors") ?? false)
        }
    }

    /// `--save-task-vector` computes τ_M once and builds the checkpoint from it: the checkpoint is
    /// the plain merge's byte for byte, the task vector the library's.
    func testSavingTheTaskVectorGivesThePlainMergeOutput() throws {
        let (base, models) = try models()
        for method in ["iso_cts", "ties", "average"] {
            let common = ["merge", "--method", method, "--base", base, "--models"] + models + ["--alpha", "0.7", "--quiet"]
            let plain = directory + "/plain-\(method).safetensors", withTau = directory + "/with-tau-\(method).safetensors"
            let tau = directory + "/tau-\(method).safetensors"
            XCTAssertEqual(try Isomerge.run(common + ["--output", plain]).status, 0)
            let saving = try Isomerge.run(common + ["--output", withTau, "--save-task-vector", tau])
            XCTAssertEqual(saving.status, 0, saving.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: withTau)), try Data(contentsOf: URL(fileURLWithPath: plain)), method)
            let engine = try MergeEngine(base: try Checkpoint(path: base), models: try models.map { try Checkpoint(path: $0) },
                                         options: MergeOptions(rule: try MergeRules.standard.make(method)))
            let library = directory + "/lib-tau-\(method).safetensors"
            _ = try engine.writeTaskVector(to: library)
            let (ours, theirs) = (try Checkpoint(path: tau), try Checkpoint(path: library))
            XCTAssertEqual(ours.tensors.map(\.entry.name).sorted(), theirs.tensors.map(\.entry.name).sorted())
            for (_, entry) in theirs.tensors {
                XCTAssertEqual(try ours.rawBytes(of: entry.name), try theirs.rawBytes(of: entry.name), "\(method) \(entry.name)")
            }
        }
    }

    func testConfigFileAndFlagsGiveTheSameOutput() throws {
        let (base, models) = try models()
        let config = directory + "/merge.json"
        let modelList = models.map { "\"\($0)\"" }.joined(separator: ", ")
        try Data("""
            {"method": "iso_cts", "base": "\(base)", "models": [\(modelList)], "output": "\(directory)/from-config.safetensors",
             "alpha": 1.2, "common_fraction": 0.5, "quiet": true}
            """.utf8).write(to: URL(fileURLWithPath: config))
        XCTAssertEqual(try Isomerge.run(["merge", "--config", config]).status, 0)
        let flags = try Isomerge.run(["merge", "--method", "iso_cts", "--base", base, "--models"] + models
                                     + ["--output", directory + "/from-flags.safetensors", "--alpha", "1.2", "--common-fraction", "0.5", "--quiet"])
        XCTAssertEqual(flags.status, 0, flags.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/from-config.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: directory + "/from-flags.safetensors")))
        // Flags override the file; --print-config shows the effective settings.
        let printed = try Isomerge.run(["merge", "--config", config, "--alpha", "0.9", "--print-config"])
        XCTAssertEqual(printed.status, 0)
        XCTAssertTrue(printed.stdout.contains("\"alpha\": 0.9"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("\"common_fraction\": 0.5"), printed.stdout)
    }

    func testUsageAndRuntimeErrors() throws {
        let (base, models) = try models()
        let badConfig = directory + "/bad.json"
        try Data("{\"method\": \"iso_c\", \"colour\": 3}".utf8).write(to: URL(fileURLWithPath: badConfig))
        let unknownKey = try Isomerge.run(["merge", "--config", badConfig])
        XCTAssertEqual(unknownKey.status, 2)
        XCTAssertTrue(unknownKey.stderr.contains("unknown key \"colour\""), unknownKey.stderr)
        try Data("{\"method\": ".utf8).write(to: URL(fileURLWithPath: badConfig))
        XCTAssertEqual(try Isomerge.run(["merge", "--config", badConfig]).status, 2)

        let unknownMethod = try Isomerge.run(["merge", "--method", "magic", "--base", base, "--models"] + models + ["--output", directory + "/x.safetensors"])
        XCTAssertEqual(unknownMethod.status, 2)
        XCTAssertTrue(unknownMethod.stderr.contains("unknown method 'magic'"), unknownMethod.stderr)

        let missing = try Isomerge.run(["merge", "--method", "iso_c", "--base", directory + "/nope.safetensors", "--models"] + models
                                       + ["--output", directory + "/x.safetensors"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.safetensors: cannot open"), missing.stderr)

        let other = try write("other.safetensors", [("layer.weight", [8, 12], [Float](repeating: 0, count: 96))])
        let mismatched = try Isomerge.run(["merge", "--method", "iso_c", "--base", base, "--models", models[0], other,
                                           "--output", directory + "/x.safetensors"])
        XCTAssertEqual(mismatched.status, 1)
        for fragment in ["other.safetensors: tensor 'layer.weight': shape [8, 12] differs from the base's [12, 8]",
                         "other.safetensors: tensor 'layer.bias' is missing", "other.safetensors: tensor 'head.weight' is missing"] {
            XCTAssertTrue(mismatched.stderr.contains(fragment), mismatched.stderr)
        }

        let unwritable = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models
                                          + ["--output", directory + "/no/such/dir/out.safetensors"])
        XCTAssertEqual(unwritable.status, 1)
        XCTAssertTrue(unwritable.stderr.contains("cannot create"), unwritable.stderr)

        let exists = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models + ["--output", base])
        XCTAssertEqual(exists.status, 1)
        XCTAssertTrue(exists.stderr.contains("already exists"), exists.stderr)

        XCTAssertEqual(try Isomerge.run(["merge", "--method", "iso_c"]).status, 2)
        let help = try Isomerge.run(["merge", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("example:"))
    }

    /// `--precision` defaults to auto: Double where the output is 16-bit, recorded in the provenance
    /// as the precision used; float32 or float64 when given; anything else is a usage error.
    func testPrecisionIsChosenFromTheOutputDTypeAndRecorded() throws {
        let (base, models) = try models()
        for (flags, expected) in [([String](), "float32"), (["--output-dtype", "bf16"], "float64"),
                                  (["--output-dtype", "f16", "--precision", "float32"], "float32"),
                                  (["--precision", "auto", "--output-dtype", "bf16"], "float64"), (["--precision", "float64"], "float64")] {
            let output = directory + "/precision-\(flags.joined(separator: "_")).safetensors"
            let result = try Isomerge.run(["merge", "--method", "iso_c", "--base", base, "--models"] + models + flags + ["--output", output, "--quiet"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try Checkpoint(path: output).metadataValue("isomerge.precision"), expected, "\(flags)")
        }
        let wrong = try Isomerge.run(["merge", "--method", "iso_c", "--base", base, "--models"] + models
                                     + ["--precision", "half", "--output", directory + "/x.safetensors"])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.stderr.contains("--precision must be auto, float32 or float64, not 'half'"), wrong.stderr)
    }

    /// A score that keeps rising past the grid: the search continues the grid upward with its step,
    /// says on stderr that the optimum may lie above, and writes that into --search-report.
    func testAlphaSearchAtTheGridsEdgeSaysSoAndReportsIt() throws {
        let base = try write("zero.safetensors", [("w", [2, 2], [0, 0, 0, 0])])
        let tuned = try write("tuned.safetensors", [("w", [2, 2], [1, 0, 0, 0.25])])
        let executable = Isomerge.executable.path
        let evaluator = "\(shellQuote(executable)) svd {checkpoint} --tensor w | awk '{for(i=1;i<=NF;i++) if($i==\"σ:\") s=$(i+1)} END {print s}'"
        let report = directory + "/search.json"
        let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models", tuned,
                                       "--output", directory + "/best.safetensors", "--alpha-grid", "0.1:0.3:0.1",
                                       "--evaluate", evaluator, "--search-report", report])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("may lie above"), result.stderr)
        let document = try JSONValue.parse([UInt8](FileManager.default.contents(atPath: report) ?? Data()))
        XCTAssertEqual(document["optimum_may_lie_outside"], .bool(true))
        XCTAssertEqual(document["early_stop_fired"], .bool(false))
        XCTAssertEqual(document["extended_above"]?.double, Double(AlphaSelection.maximumExtension))
        XCTAssertEqual(document["best_alpha"]?.double ?? 0, 0.3 + 0.1 * Double(AlphaSelection.maximumExtension), accuracy: 1e-9)
        XCTAssertEqual(try AlphaReport(contentsOf: report).scores.count, 3 + AlphaSelection.maximumExtension)
        let misuse = try Isomerge.run(["merge", "--method", "iso_c", "--base", base, "--models", tuned,
                                       "--output", directory + "/x.safetensors", "--search-report", report])
        XCTAssertEqual(misuse.status, 2, misuse.stderr)
    }

    /// The evaluator scores −(σ₁ − 0.5)² of the merged matrix, read with `isomerge svd`: with a zero
    /// base and a task vector of norm 1, the best α is 0.5 and the search stops three steps later.
    func testAlphaSearchPicksTheBestAndStopsEarly() throws {
        let base = try write("zero.safetensors", [("w", [2, 2], [0, 0, 0, 0])])
        let tuned = try write("tuned.safetensors", [("w", [2, 2], [1, 0, 0, 0.25])])
        let executable = Isomerge.executable.path
        let evaluator = "\(shellQuote(executable)) svd {checkpoint} --tensor w | awk '{for(i=1;i<=NF;i++) if($i==\"σ:\") s=$(i+1)} END {print \"scored\"; print -(s-0.5)*(s-0.5)}'"
        let output = directory + "/best.safetensors"
        let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models", tuned, "--output", output,
                                       "--alpha-grid", "0.1:3.0:0.1", "--evaluate", evaluator, "--save-task-vector", directory + "/tau.safetensors"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("chose α = 0.5"), result.stdout)
        XCTAssertTrue(result.stdout.contains("stopped after 8 candidates"), result.stdout)
        XCTAssertFalse(result.stderr.contains("α search:"), "an interior optimum needs no note: \(result.stderr)")
        let merged = try Checkpoint(path: output)
        XCTAssertEqual(try merged.values(of: "w", as: Float.self), [0.5, 0, 0, 0.125])
        // The saved task vector applies to the same result without any SVD.
        let applied = try Isomerge.run(["apply", "--base", base, "--task-vector", directory + "/tau.safetensors", "--alpha", "0.5",
                                        "--output", directory + "/applied.safetensors", "--quiet"])
        XCTAssertEqual(applied.status, 0, applied.stderr)
        XCTAssertEqual(try Checkpoint(path: directory + "/applied.safetensors").values(of: "w", as: Float.self), [0.5, 0, 0, 0.125])
        // No temporary files are left beside the output.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testFailingEvaluatorStopsTheSearchWithItsStderr() throws {
        let (base, models) = try models()
        let result = try Isomerge.run(["merge", "--method", "iso_c", "--base", base, "--models"] + models
                                      + ["--output", directory + "/out.safetensors", "--alpha-grid", "0.5:1.5:0.5",
                                         "--evaluate", "test -f {checkpoint} && echo 'model exploded' >&2; exit 3"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("model exploded"), result.stderr)
        XCTAssertTrue(result.stderr.contains("exit status 3"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
    }

    func testSVDCommandPrintsSpectraAndWritesFactors() throws {
        let path = try write("m.safetensors", [("w", [3, 2], [3, 0, 0, 2, 0, 0])])
        let output = directory + "/factors.safetensors"
        let result = try Isomerge.run(["svd", path, "--output", output])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("w  [3, 2] F32  σ: 3 2"), result.stdout)
        let factors = try Checkpoint(path: output)
        XCTAssertEqual(try factors.values(of: "w.S", as: Float.self), [3, 2])
        XCTAssertEqual(factors.tensor(named: "w.U")?.entry.shape, [3, 2])
        XCTAssertEqual(factors.tensor(named: "w.Vt")?.entry.shape, [2, 2])
    }

    /// The demo runs end to end and prints a parsable table: every method, α and its place in the
    /// grid, T accuracies each.
    func testDemoRunsAndItsTableParses() throws {
        let result = try Isomerge.run(["demo", "--tasks", "3", "--out", directory + "/demo", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        guard let headerIndex = lines.firstIndex(where: { $0.hasPrefix("method") }) else {
            return XCTFail("no table header in:\n\(result.stdout)")
        }
        XCTAssertEqual(lines[headerIndex].split(separator: " ").map(String.init),
                       ["method", "alpha", "grid", "T1", "T2", "T3", "avg", "norm", "merge_s"])
        let rows = lines[(headerIndex + 1)...].prefix(8)
        let names = ["zero-shot (base)", "fine-tuned (each)"] + MergeRules.standard.names
        XCTAssertEqual(rows.count, names.count)
        let place = try Regex("^([0-9]+/[0-9]+|above\\+[0-9]+|below-[0-9]+|fixed)$")
        for (row, name) in zip(rows, names) {
            XCTAssertTrue(row.hasPrefix(name), row)
            // alpha, grid, T1 T2 T3, avg, norm, merge_s — alpha, grid and merge_s are "-" for the reference rows.
            let cells = row.dropFirst(19).split(separator: " ").map(String.init)
            XCTAssertEqual(cells.count, 8, row)
            let accuracies = cells[2...6].compactMap { Double($0) }
            XCTAssertEqual(accuracies.count, 5, row)
            for accuracy in accuracies { XCTAssertTrue((0...110).contains(accuracy), row) }
            if MergeRules.standard.rule(named: name) != nil {
                XCTAssertNotNil(Double(cells[0].hasSuffix("*") ? String(cells[0].dropLast()) : cells[0]), "α of \(row)")
                XCTAssertNotNil(cells[1].wholeMatch(of: place), "grid place of \(row)")
                XCTAssertNotNil(Double(cells[7]), "merge time of \(row)")
            }
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("experts:") && $0.contains("‖τ_t‖/‖θ₀‖") })
        XCTAssertTrue(lines.contains { $0.contains("merged_iso_cts.safetensors") })
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/demo/merged_iso_c.safetensors"))
    }

    func testAnalyzeWritesTableJSONAndPlots() throws {
        let (base, models) = try models()
        let result = try Isomerge.run(["analyze", "--base", base, "--models"] + models
                                      + ["--methods", "iso_c,task-arithmetic", "--json", directory + "/sar.json", "--svg", directory + "/plots", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("layer.weight") }, result.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("head.weight") }, result.stdout)
        XCTAssertTrue(lines.last?.hasPrefix("average") ?? false, result.stdout)
        let json = try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/sar.json"))))
        guard case let .array(sar)? = json["methods"]?["iso_c"]?["tensors"]?["layer.weight"]?["sar"] else {
            return XCTFail("no SAR list in the JSON")
        }
        XCTAssertEqual(sar.count, 3)
        XCTAssertNotNil(json["methods"]?["task_arithmetic"]?["average_sar"]?.double)
        for plot in ["spectrum.svg", "sar-per-layer.svg", "sar-per-task.svg"] {
            let legend = try LegendReader(path: directory + "/plots/" + plot)
            XCTAssertEqual(legend.entries, ["iso_c", "task_arithmetic"], plot)
            XCTAssertEqual(legend.colors["iso_c"], [SeriesStyle.method("iso_c").color], plot)
            XCTAssertEqual(legend.colors["task_arithmetic"], [SeriesStyle.method("task_arithmetic").color], plot)
        }
        XCTAssertEqual(try Isomerge.run(["analyze", "--base", base, "--models"] + models + ["--methods", "nope"]).status, 2)
        XCTAssertEqual(try Isomerge.run(["analyze", "--base", base, "--models"] + models + ["--methods", "iso_c,iso-c"]).status, 2)
    }

    /// Short tensor names keep the row label "average" whole; α reports become alpha-scores.svg, and
    /// a broken one is named in the error.
    func testAnalyzeAlphaReportsAndShortNames() throws {
        var state: UInt64 = 5
        func random() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        let base = (0..<30).map { _ in random() }
        let basePath = try write("base.safetensors", [("w", [6, 5], base)])
        let models = try (0..<3).map { t in try write("ft_\(t).safetensors", [("w", [6, 5], base.map { $0 + 0.1 * random() })]) }
        let report = directory + "/iso_c-alpha.json"
        try Data("{\"method\": \"iso_c\", \"scores\": [{\"alpha\": 1.0, \"score\": 0.5}, {\"alpha\": 1.3, \"score\": 0.6}]}".utf8)
            .write(to: URL(fileURLWithPath: report))
        let common = ["analyze", "--base", basePath, "--models"] + models + ["--methods", "iso_c,tsv_m"]
        let result = try Isomerge.run(common + ["--svg", directory + "/plots", "--alpha-report", report, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.split(separator: "\n").last?.hasPrefix("average ") ?? false, result.stdout)
        XCTAssertEqual(try LegendReader(path: directory + "/plots/alpha-scores.svg").entries, ["iso_c"])
        XCTAssertEqual(try Isomerge.run(common + ["--alpha-report", report]).status, 2, "--alpha-report needs --svg")
        try Data("{\"method\": \"iso_c\"}".utf8).write(to: URL(fileURLWithPath: directory + "/broken.json"))
        let broken = try Isomerge.run(common + ["--svg", directory + "/plots", "--alpha-report", directory + "/broken.json"])
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.stderr.contains(directory + "/broken.json"), broken.stderr)
    }
}
