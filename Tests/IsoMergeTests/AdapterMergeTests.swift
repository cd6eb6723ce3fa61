import Foundation
@testable import IsoMerge
import Linalg
import TestSupport
import XCTest

/// Merging PEFT LoRA adapters against the existing dense engine merging their densified
/// checkpoints θ₀ + τ_t (stored F64, so that θ_t − θ₀ is τ_t to about 10⁻¹⁶): every method, both
/// outputs, both precisions; mixed ranks, rslora, rank_pattern/alpha_pattern, a module one
/// adapter lacks, a side with Σr above its dimension, fan_in_fan_out.
final class AdapterMergeTests: XCTestCase {
    /// A module by its PEFT shape: lora_B out × r, lora_A r × in.
    struct ModuleShape { let name: String; let out: Int; let input: Int }

    /// One adapter: r and α of its config, the patterns, and the modules it adapts with their ranks.
    struct AdapterShape {
        let r: Int, alpha: Double, rslora: Bool
        let rankPattern: [String: Int], alphaPattern: [String: Double]
        let modules: [String]

        func rank(_ module: String) -> Int { rankPattern.first { module.hasSuffix("." + $0.key) }?.value ?? r }
        func scale(_ module: String) -> Double {
            let a = alphaPattern.first { module.hasSuffix("." + $0.key) }?.value ?? alpha
            return rslora ? a / Double(rank(module)).squareRoot() : a / Double(rank(module))
        }
    }

    static let modules = [
        ModuleShape(name: "model.layers.0.self_attn.q_proj", out: 16, input: 40),
        ModuleShape(name: "model.layers.0.mlp.up_proj", out: 48, input: 20),
        // Σr = 10 above out = 8: the left side keeps the identity basis.
        ModuleShape(name: "model.layers.0.mlp.down_proj", out: 8, input: 40),
    ]
    static let adapters = [
        AdapterShape(r: 4, alpha: 8, rslora: false, rankPattern: [:], alphaPattern: [:], modules: modules.map(\.name)),
        AdapterShape(r: 6, alpha: 12, rslora: true, rankPattern: ["mlp.up_proj": 2], alphaPattern: ["mlp.up_proj": 5],
                     modules: modules.map(\.name)),
        AdapterShape(r: 3, alpha: 3, rslora: false, rankPattern: [:], alphaPattern: [:], modules: Array(modules.map(\.name).prefix(2))),
    ]

    struct Scenario {
        let base: String, adapters: [String], models: [String], directory: String
    }

    /// Writes the base (F64: adapted weights, a norm, an unadapted embedding, an I64 tensor), the
    /// adapters (F32 factors) and their densified checkpoints.
    func makeScenario(fanInFanOut: Bool, seed: UInt64 = 25) throws -> Scenario {
        let directory = TestFiles.scratchDirectory(for: self)
        var generator = SeededGenerator(seed: seed)
        func baseShape(_ module: ModuleShape) -> [Int] { fanInFanOut ? [module.input, module.out] : [module.out, module.input] }
        var base: [(name: String, dtype: DType, shape: [Int], values: [Double])] = Self.modules.map { module in
            (module.name + ".weight", .f64, baseShape(module), Matrix<Double>.random(rows: module.out, columns: module.input, using: &generator).elements)
        }
        base.append(("model.layers.0.input_layernorm.weight", .f64, [40], (0..<40).map { _ in Double.random(in: -1...1, using: &generator) }))
        base.append(("model.embed_tokens.weight", .f64, [10, 40], (0..<400).map { _ in Double.random(in: -1...1, using: &generator) }))
        base.append(("model.position_ids", .i64, [5], [0, 1, 2, 3, 4]))
        let basePath = directory + "/base.safetensors"
        try write(base, to: basePath)
        var adapterPaths: [String] = [], modelPaths: [String] = []
        for (t, adapter) in Self.adapters.enumerated() {
            let path = directory + "/adapter\(t)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            var factors: [(name: String, dtype: DType, shape: [Int], values: [Double])] = []
            var model = base
            for module in Self.modules where adapter.modules.contains(module.name) {
                let r = adapter.rank(module.name)
                // Factors rounded to Float, as stored: the densified checkpoints use the same values.
                let a = Matrix<Float>.random(rows: r, columns: module.input, using: &generator).converted(to: Double.self)
                let b = Matrix<Float>.random(rows: module.out, columns: r, using: &generator).converted(to: Double.self)
                factors.append((LoRAAdapter.keyPrefix + module.name + ".lora_A.weight", .f32, [r, module.input], a.elements))
                factors.append((LoRAAdapter.keyPrefix + module.name + ".lora_B.weight", .f32, [module.out, r], b.elements))
                var tau = product(b, a)
                if fanInFanOut { tau = tau.transposed }
                let s = adapter.scale(module.name)
                let index = model.firstIndex { $0.name == module.name + ".weight" }!
                model[index].values = zip(model[index].values, tau.elements).map { $0 + s * $1 }
            }
            try write(factors, to: path + "/" + LoRAAdapter.weightsName)
            let rankPattern = adapter.rankPattern.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
            let alphaPattern = adapter.alphaPattern.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
            let config = """
                {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": \(adapter.r), "lora_alpha": \(adapter.alpha),
                 "use_rslora": \(adapter.rslora), "fan_in_fan_out": \(fanInFanOut), "rank_pattern": {\(rankPattern)},
                 "alpha_pattern": {\(alphaPattern)}, "target_modules": ["q_proj", "up_proj", "down_proj"], "use_dora": false}
                """
            try Data(config.utf8).write(to: URL(fileURLWithPath: path + "/" + LoRAAdapter.configName))
            let modelPath = directory + "/ft\(t).safetensors"
            try write(model, to: modelPath)
            adapterPaths.append(path)
            modelPaths.append(modelPath)
        }
        return Scenario(base: basePath, adapters: adapterPaths, models: modelPaths, directory: directory)
    }

    func write(_ tensors: [(name: String, dtype: DType, shape: [Int], values: [Double])], to path: String) throws {
        let writer = try SafetensorsWriter(path: path, tensors: tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        for spec in writer.order {
            let tensor = tensors.first { $0.name == spec.name }!
            if spec.dtype.isConvertibleFloat {
                try tensor.values.withUnsafeBufferPointer { try writer.write(spec.name, values: $0) }
            } else {
                let bytes = tensor.values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: Int64(value) >> (8 * $0)) } }
                try bytes.withUnsafeBytes { try writer.write(spec.name, bytes: $0) }
            }
        }
        try writer.finish()
    }

    func options(_ method: String, _ precision: Precision, _ given: [String: MergeParameterValue] = [:]) throws -> MergeOptions {
        var options = MergeOptions(rule: try MergeRules.standard.make(method, given: given))
        options.precision = precision
        return options
    }

    /// ‖x − y‖_F / ‖y‖_F.
    func relative(_ x: [Double], _ y: [Double]) -> Double {
        let difference = zip(x, y).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let size = y.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        return size > 0 ? difference / size : difference
    }

    /// θ − θ₀ of every adapted module in the checkpoint at `path`.
    func deltas(_ path: String, base: String) throws -> [String: [Double]] {
        let (merged, original) = (try Checkpoint(path: path), try Checkpoint(path: base))
        var result: [String: [Double]] = [:]
        for module in Self.modules {
            let name = module.name + ".weight"
            result[name] = zip(try merged.values(of: name, as: Double.self), try original.values(of: name, as: Double.self)).map { $0 - $1 }
        }
        return result
    }

    /// α·τ_M of every module of the adapter in `path`, s·B·A in the base layout.
    func deltas(adapter path: String) throws -> [String: [Double]] {
        let adapter = try LoRAAdapter(path: path)
        var result: [String: [Double]] = [:]
        for module in adapter.modules {
            let (left, right) = try adapter.factors(of: module, as: Double.self)
            result[module.name + ".weight"] = product(left, right, transposeB: true).elements
        }
        return result
    }

    static let methods: [(String, [String: MergeParameterValue])] = [
        ("average", [:]), ("task_arithmetic", [:]), ("ties", [:]), ("tsv_m", [:]), ("iso_c", [:]), ("iso_cts", [:]),
        ("iso_cts", ["common-fraction": .number(0.5)]),
    ]

    /// Both outputs of every method agree with the dense merge of the densified checkpoints.
    func checkEveryMethod(fanInFanOut: Bool) throws {
        let scenario = try makeScenario(fanInFanOut: fanInFanOut)
        let base = try Checkpoint(path: scenario.base)
        for (method, given) in Self.methods {
            for (precision, tolerance) in [(Precision.float32, 1e-4), (.float64, 1e-10)] {
                let label = "\(method) \(given) \(precision)"
                let options = try options(method, precision, given)
                let densePath = scenario.directory + "/dense.safetensors"
                _ = try MergeEngine(base: base, models: try scenario.models.map { try Checkpoint(path: $0) }, options: options)
                    .merge(to: densePath, overwrite: true)
                let expected = try deltas(densePath, base: scenario.base)
                let merge = try AdapterMerge(adapters: try scenario.adapters.map { try LoRAAdapter(path: $0) }, base: base, options: options)
                let checkpointPath = scenario.directory + "/from-adapters.safetensors"
                _ = try merge.merge(to: checkpointPath, overwrite: true)
                let fromAdapters = try deltas(checkpointPath, base: scenario.base)
                // TIES's merge is not low-rank: its adapter holds the full rank of each module.
                let rank = method == "ties" ? 48 : nil
                let adapterPath = scenario.directory + "/merged-adapter"
                let report = try merge.writeAdapter(to: adapterPath, rank: rank, overwrite: true)
                XCTAssertEqual(report.discardedShare, 0, accuracy: precision == .float32 ? 1e-6 : 1e-12, label)
                let adapterDeltas = try deltas(adapter: adapterPath)
                for (name, reference) in expected {
                    XCTAssertLessThanOrEqual(relative(fromAdapters[name]!, reference), tolerance, "\(label) checkpoint \(name)")
                    XCTAssertLessThanOrEqual(relative(adapterDeltas[name]!, reference), tolerance, "\(label) adapter \(name)")
                }
                // Everything else as the dense merge writes it.
                let (dense, ours) = (try Checkpoint(path: densePath), try Checkpoint(path: checkpointPath))
                for name in ["model.layers.0.input_layernorm.weight", "model.embed_tokens.weight", "model.position_ids"] {
                    XCTAssertEqual(try dense.rawBytes(of: name), try ours.rawBytes(of: name), "\(label) \(name)")
                }
            }
        }
    }

    func testEveryMethodMatchesTheDensifiedMerge() throws {
        try checkEveryMethod(fanInFanOut: false)
    }

    func testFanInFanOutMatchesTheDensifiedMerge() throws {
        try checkEveryMethod(fanInFanOut: true)
    }

    /// A config the fuzzer found (Fixtures/fuzz/adapter-config): a rank_pattern value that is an
    /// integer but beyond Int (2.1e85) trapped in the conversion; it is refused, naming the key.
    func testRankPatternBeyondIntIsRefused() throws {
        let path = TestFiles.fixture("fuzz/adapter-config/rank-pattern-beyond-int.json")
        let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
        XCTAssertThrowsError(try LoRAConfig(json: bytes, path: path)) { error in
            XCTAssertTrue("\(error)".contains("\"rank_pattern\": \"jorp\" must be an integer"), "\(error)")
        }
    }

    /// The analysis of adapters is that of their densified checkpoints: the same k_M, SAR and norms
    /// for every changed module under every method, in both precisions.
    func testAnalysisMatchesTheDensifiedCheckpoints() throws {
        let scenario = try makeScenario(fanInFanOut: false, seed: 31)
        let base = try Checkpoint(path: scenario.base)
        let rules = try ["task_arithmetic", "ties", "tsv_m", "iso_c", "iso_cts"].map { try MergeRules.standard.make($0, given: [:]) }
        for (precision, tolerance) in [(Precision.float32, 1e-4), (.float64, 1e-9)] {
            let dense = try AlignmentReport.compute(base: base, models: try scenario.models.map { try Checkpoint(path: $0) }, rules: rules,
                                                    precision: precision)
            let ours = try AlignmentReport.compute(adapters: try scenario.adapters.map { try LoRAAdapter(path: $0) }, base: base,
                                                   rules: rules, precision: precision)
            XCTAssertEqual(Set(ours.tensors), Set(Self.modules.map { $0.name + ".weight" }))
            XCTAssertEqual(ours.tasks.count, Self.adapters.count)
            for method in rules.map(\.name) {
                for entry in ours.entries[method]! {
                    let label = "\(method) \(precision) \(entry.tensor)"
                    let expected = try XCTUnwrap(dense.entries[method]!.first { $0.tensor == entry.tensor }, label)
                    XCTAssertEqual(entry.rank, expected.rank, label)
                    XCTAssertEqual(entry.norm, expected.norm, accuracy: tolerance * expected.norm, label)
                    for (x, y) in zip(entry.ratios, expected.ratios) { XCTAssertEqual(x, y, accuracy: tolerance, label) }
                }
            }
        }
    }

    /// Exactly low-rank task vectors are the normal case for adapters: Float decides every step from
    /// the cores' known ranks (singular values past r_t are exact zeros, not noise to tell apart), so
    /// no Double redo is needed, and the result agrees with Double's. Sizes where TSV-M's s and
    /// Iso-CTS's k exceed the ranks (the structural cut decides) and where they do not.
    func testFloatDecidesExactlyLowRankCoresWithoutDouble() throws {
        let rules = try [("tsv_m", 0.8), ("iso_c", 0.8), ("iso_cts", 0.8), ("iso_cts", 0.5)].map { name, fraction in
            let given: [String: MergeParameterValue] = name == "iso_cts" ? ["common-fraction": .number(fraction)] : [:]
            return try XCTUnwrap(try MergeRules.standard.make(name, given: given) as? any FactoredMatrixRule)
        }
        for (seed, m, n, ranks) in [(1, 200, 150, [2, 8, 5, 3, 6, 4]), (2, 40, 40, [8, 8, 8, 8]), (3, 90, 300, [16, 1, 7])] {
            var generator = SeededGenerator(seed: UInt64(seed))
            let factors = ranks.map { r in (left: Matrix<Double>.random(rows: m, columns: r, using: &generator),
                                            right: Matrix<Double>.random(rows: n, columns: r, using: &generator)) }
            let floats = factors.map { (left: $0.left.converted(to: Float.self), right: $0.right.converted(to: Float.self)) }
            // The Float factors' exact values, so that both precisions merge the same task vectors.
            let exact = floats.map { (left: $0.left.converted(to: Double.self), right: $0.right.converted(to: Double.self)) }
            for rule in rules {
                let label = "\(type(of: rule).name) \(rule.parameters) seed \(seed)"
                let reference = try LowRankTaskVectors<Double>(factors: exact, rows: m, columns: n, threads: nil)
                    .merged(by: rule, exact: { preconditionFailure() }, threads: nil).dense(threads: nil)
                var redone = false
                let ours = try LowRankTaskVectors<Float>(factors: floats, rows: m, columns: n, threads: nil)
                    .merged(by: rule, exact: {
                        redone = true
                        return LowRankTaskVectors<Double>(factors: exact, rows: m, columns: n, threads: nil)
                    }, threads: nil).dense(threads: nil)
                XCTAssertFalse(redone, "\(label): Float could not decide")
                XCTAssertLessThanOrEqual(relativeError(ours, to: reference), 1e-4, label)
            }
        }
    }

    /// The written adapter is PEFT's format: keys, F32 factors, the config's fields.
    func testWrittenAdapterIsPEFTFormat() throws {
        let scenario = try makeScenario(fanInFanOut: false)
        let merge = try AdapterMerge(adapters: try scenario.adapters.map { try LoRAAdapter(path: $0) }, base: nil,
                                     options: try options("iso_c", .float32))
        let path = scenario.directory + "/out"
        let report = try merge.writeAdapter(to: path)
        XCTAssertEqual(TestFiles.listing(path), [LoRAAdapter.configName, LoRAAdapter.weightsName])
        XCTAssertEqual(report.rank, 13)
        let file = try SafetensorsFile(path: path + "/" + LoRAAdapter.weightsName)
        XCTAssertEqual(file.entries.map(\.name).sorted(), Self.modules.flatMap { module in
            ["A", "B"].map { LoRAAdapter.keyPrefix + module.name + ".lora_\($0).weight" }
        }.sorted())
        XCTAssertTrue(file.entries.allSatisfy { $0.dtype == .f32 })
        // q_proj: Σr = 13 (r), up_proj: 9, down_proj: min(Σr, 8) = 8, in rank_pattern and alpha_pattern.
        let config = try JSONValue.parse(TestFiles.bytes(path + "/" + LoRAAdapter.configName))
        XCTAssertEqual(config["r"], .number("13"))
        XCTAssertEqual(config["lora_alpha"], .number("13"))
        XCTAssertEqual(config["peft_type"], .string("LORA"))
        XCTAssertEqual(config["task_type"], .string("CAUSAL_LM"))
        XCTAssertEqual(config["rank_pattern"], .object([("model.layers.0.mlp.down_proj", .number("8")), ("model.layers.0.mlp.up_proj", .number("9"))]))
        XCTAssertEqual(config["rank_pattern"], config["alpha_pattern"])
        let reopened = try LoRAAdapter(path: path)
        XCTAssertEqual(reopened.modules.map(\.scale), [1, 1, 1])
    }

    /// Unless a precision is given, checkpoints and task vectors of a base are merged in Double when
    /// written as F16 or BF16 and in Float otherwise; adapters by their own output dtype.
    func testPrecisionFollowsTheOutputDType() throws {
        let scenario = try makeScenario(fanInFanOut: false)
        let adapters = try scenario.adapters.map { try LoRAAdapter(path: $0) }
        let base = try Checkpoint(path: scenario.base)
        var options = MergeOptions(rule: try MergeRules.standard.make("iso_c"))
        XCTAssertEqual(try AdapterMerge(adapters: adapters, base: base, options: options).checkpointPrecision(base), .float32)
        XCTAssertEqual(try AdapterMerge(adapters: adapters, base: base, options: options).adapterPrecision, .float32)
        options.outputDType = .bf16
        let merge = try AdapterMerge(adapters: adapters, base: base, options: options)
        XCTAssertEqual(merge.checkpointPrecision(base), .float64)
        XCTAssertEqual(merge.adapterPrecision, .float64)
        options.precision = .float32
        XCTAssertEqual(try AdapterMerge(adapters: adapters, base: base, options: options).checkpointPrecision(base), .float32)
        _ = try merge.writeAdapter(to: scenario.directory + "/bf16")
        let file = try SafetensorsFile(path: scenario.directory + "/bf16/" + LoRAAdapter.weightsName)
        XCTAssertTrue(file.entries.allSatisfy { $0.dtype == .bf16 })
    }

    /// --adapter-rank keeps the best rank-k approximation and reports what it leaves out.
    func testAdapterRankTruncatesAndReportsTheDiscardedShare() throws {
        let scenario = try makeScenario(fanInFanOut: false)
        let options = try options("tsv_m", .float64)
        let merge = try AdapterMerge(adapters: try scenario.adapters.map { try LoRAAdapter(path: $0) }, base: nil, options: options)
        let full = try deltas(adapter: { let p = scenario.directory + "/full"; _ = try merge.writeAdapter(to: p); return p }())
        let report = try merge.writeAdapter(to: scenario.directory + "/cut", rank: 3)
        let cut = try deltas(adapter: scenario.directory + "/cut")
        var leftOut = 0.0, total = 0.0
        for module in Self.modules {
            let name = module.name + ".weight"
            let x = Matrix(rows: module.out, columns: module.input, elements: full[name]!)
            let sigma = try SVD.singularValues(of: x)
            let best = try TruncatedSVD(x, rank: 3)
            var approximation = best.u
            approximation.withMutableView { u in for i in 0..<u.rows { for j in 0..<u.columns { u[i, j] *= best.singularValues[j] } } }
            XCTAssertLessThanOrEqual(relative(cut[name]!, product(approximation, best.vt).elements), 1e-10, name)
            total += sigma.reduce(0) { $0 + $1 * $1 }
            leftOut += sigma.dropFirst(3).reduce(0) { $0 + $1 * $1 }
        }
        XCTAssertEqual(report.rank, 3)
        XCTAssertEqual(report.discardedShare, leftOut / total, accuracy: 1e-10)
        XCTAssertNotNil(report.largestDiscarded)
    }

    /// TIES needs --adapter-rank for an adapter; modules are matched to base tensors with every
    /// mismatch named.
    func testProblemsAreReported() throws {
        let scenario = try makeScenario(fanInFanOut: false)
        let adapters = try scenario.adapters.map { try LoRAAdapter(path: $0) }
        let ties = try AdapterMerge(adapters: adapters, base: nil, options: try options("ties", .float32))
        XCTAssertThrowsError(try ties.writeAdapter(to: scenario.directory + "/ties")) { error in
            XCTAssertTrue("\(error)".contains("--adapter-rank"), "\(error)")
        }
        // A base without down_proj and with up_proj transposed.
        try write([("model.layers.0.self_attn.q_proj.weight", .f32, [16, 40], [Double](repeating: 0, count: 640)),
                   ("model.layers.0.mlp.up_proj.weight", .f32, [20, 48], [Double](repeating: 0, count: 960))],
                  to: scenario.directory + "/other.safetensors")
        XCTAssertThrowsError(try AdapterMerge(adapters: adapters, base: try Checkpoint(path: scenario.directory + "/other.safetensors"),
                                              options: try options("iso_c", .float32))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("has no tensor 'model.layers.0.mlp.down_proj.weight'"), text)
            XCTAssertTrue(text.contains("tensor 'model.layers.0.mlp.up_proj.weight' is F32 [20, 48]"), text)
        }
        // An adapter whose factors disagree with its config's rank.
        let config = scenario.adapters[0] + "/" + LoRAAdapter.configName
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"r\": 4", with: "\"r\": 5")
        try Data(text.utf8).write(to: URL(fileURLWithPath: config))
        XCTAssertThrowsError(try LoRAAdapter(path: scenario.adapters[0])) { error in
            XCTAssertTrue("\(error)".contains("module 'model.layers.0.self_attn.q_proj': its factors have rank 4 but"), "\(error)")
        }
    }
}
