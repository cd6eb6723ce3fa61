import Foundation
import IsoMerge
import XCTest

/// `merge --adapters` with an α search and a saved task vector: the candidates are checkpoints
/// θ₀ + α·τ_M scored by the evaluator, and every output — checkpoint, PEFT adapter, task vector —
/// comes out at the chosen α (the task vector at α = 1, in the base's layout).
final class AdapterSearchTests: CommandLineTestCase {
    /// One rank-1 adapter of module `layer` with τ = s·B·A = [[1, 0], [0, 0]] (s = lora_alpha/r = 1).
    func writeAdapter() throws -> String {
        let adapter = directory + "/adapter"
        try FileManager.default.createDirectory(atPath: adapter, withIntermediateDirectories: true)
        let weights = try SafetensorsWriter(path: adapter + "/adapter_model.safetensors", tensors: [
            TensorSpec(name: "base_model.model.layer.lora_A.weight", dtype: .f32, shape: [1, 2]),
            TensorSpec(name: "base_model.model.layer.lora_B.weight", dtype: .f32, shape: [2, 1]),
        ])
        for spec in weights.order {
            let values: [Float] = [1, 0]
            try values.withUnsafeBufferPointer { try weights.write(spec.name, values: $0) }
        }
        try weights.finish()
        try Data(#"{"peft_type": "LORA", "r": 1, "lora_alpha": 1, "target_modules": ["layer"]}"#.utf8)
            .write(to: URL(fileURLWithPath: adapter + "/adapter_config.json"))
        return adapter
    }

    /// The evaluator scores −(σ₁ − 0.5)² of the candidate's `layer.weight`: the best α is 0.5.
    var evaluator: String {
        "\(shellQuote(Isomerge.executable.path)) svd {checkpoint} --tensor layer.weight"
            + " | awk '{for(i=1;i<=NF;i++) if($i==\"σ:\") s=$(i+1)} END {print -(s-0.5)*(s-0.5)}'"
    }

    func testAlphaSearchWritesEveryOutputAtTheChosenAlpha() throws {
        let base = try write("base.safetensors", [("layer.weight", [2, 2], [0, 0, 0, 0]), ("norm", [2], [1, 1])])
        let adapter = try writeAdapter()
        let (output, merged, tau, report) = (directory + "/best.safetensors", directory + "/merged-adapter",
                                             directory + "/tau.safetensors", directory + "/search.json")
        let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--adapters", adapter, "--base", base,
                                       "--output", output, "--output-adapter", merged, "--save-task-vector", tau,
                                       "--alpha-grid", "0.1:3.0:0.1", "--evaluate", evaluator, "--search-report", report])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("chose α = 0.5"), result.stdout)
        XCTAssertEqual(try AlphaReport(contentsOf: report).best?.alpha, 0.5)

        let checkpoint = try Checkpoint(path: output)
        XCTAssertEqual(try checkpoint.values(of: "layer.weight", as: Float.self), [0.5, 0, 0, 0])
        XCTAssertEqual(try checkpoint.values(of: "norm", as: Float.self), [1, 1])
        XCTAssertEqual(checkpoint.metadataValue("isomerge.alpha"), "0.5")

        let taskVector = try Checkpoint(path: tau)
        XCTAssertEqual(try taskVector.values(of: "layer.weight", as: Float.self), [1, 0, 0, 0])
        XCTAssertEqual(try taskVector.values(of: "norm", as: Float.self), [0, 0])
        let applied = try Isomerge.run(["apply", "--base", base, "--task-vector", tau, "--alpha", "0.5",
                                        "--output", directory + "/applied.safetensors", "--quiet"])
        XCTAssertEqual(applied.status, 0, applied.stderr)
        XCTAssertEqual(try Checkpoint(path: directory + "/applied.safetensors").values(of: "layer.weight", as: Float.self), [0.5, 0, 0, 0])

        // The adapter: r = lora_alpha = 1, so B·A is α·τ_M itself.
        let factors = try Checkpoint(path: merged + "/adapter_model.safetensors")
        let a = try factors.values(of: "base_model.model.layer.lora_A.weight", as: Double.self)
        let b = try factors.values(of: "base_model.model.layer.lora_B.weight", as: Double.self)
        let product = [b[0] * a[0], b[0] * a[1], b[1] * a[0], b[1] * a[1]]
        for (x, y) in zip(product, [0.5, 0, 0, 0]) { XCTAssertEqual(x, y, accuracy: 1e-7) }

        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    /// `analyze --adapters`: the changed module's SAR, without a base; --models with --adapters is refused.
    func testAnalyzeTakesAdapters() throws {
        let adapter = try writeAdapter()
        let json = directory + "/sar.json"
        let result = try Isomerge.run(["analyze", "--adapters", adapter, "--methods", "iso_c,tsv_m", "--json", json, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try JSONValue.parse([UInt8](FileManager.default.contents(atPath: json) ?? Data()))
        // One task whose τ is its own merge's direction: SAR 1, k_M 1.
        for method in ["iso_c", "tsv_m"] {
            let entry = document["methods"]?[method]?["tensors"]?["layer.weight"]
            XCTAssertEqual(entry?["k_m"]?.double, 1, method)
            guard case let .array(ratios)? = entry?["sar"] else { return XCTFail("\(method): no SAR in \(document)") }
            XCTAssertEqual(ratios.first?.double ?? 0, 1, accuracy: 1e-6, method)
        }
        let both = try Isomerge.run(["analyze", "--adapters", adapter, "--models", adapter, "--base", adapter])
        XCTAssertEqual(both.status, 2, both.stderr)
    }

    /// The search and the saved task vector need the base; a failing evaluator leaves no output.
    func testMisuseAndFailureLeaveNothing() throws {
        let base = try write("base.safetensors", [("layer.weight", [2, 2], [0, 0, 0, 0])])
        let adapter = try writeAdapter()
        let merged = directory + "/merged-adapter"
        for extra in [["--alpha-grid", "0.5:1:0.5", "--evaluate", "echo 1"], ["--save-task-vector", directory + "/tau.safetensors"]] {
            let refused = try Isomerge.run(["merge", "--method", "iso_c", "--adapters", adapter, "--output-adapter", merged] + extra)
            XCTAssertEqual(refused.status, 2, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("--base"), refused.stderr)
        }
        let failing = try Isomerge.run(["merge", "--method", "iso_c", "--adapters", adapter, "--base", base, "--output-adapter", merged,
                                        "--alpha-grid", "0.5:1.5:0.5", "--evaluate", "test -f {checkpoint}; echo 'no score' >&2; exit 3"])
        XCTAssertEqual(failing.status, 1)
        XCTAssertTrue(failing.stderr.contains("exit status 3"), failing.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["adapter", "base.safetensors"])
    }
}
