#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import IsoMerge

/// PEFT `adapter_config.json`: `LoRAConfig` alone, then `LoRAAdapter` opening the config beside a
/// fixed `adapter_model.safetensors` (module `layers.0.proj`: lora_A 2 × 3, lora_B 4 × 2, F32).
///
/// Invariants: an accepted config has r > 0, a finite α, positive pattern values and integer rank
/// patterns; its fields written back as JSON parse to the same fields; every module's rank is
/// positive and its scale finite; an adapter opened from it holds exactly the file's one module,
/// with the rank the config gives it (2), the config's scale, and its base shape 4 × 3 (3 × 4 with
/// fan_in_fan_out).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdapterConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        guard let config = try? LoRAConfig(json: bytes, path: "adapter_config.json") else { return }
        require(config.rank > 0 && config.alpha.isFinite, "accepted r \(config.rank), lora_alpha \(config.alpha)")
        require(config.rankPattern.allSatisfy { $0.rank > 0 } && config.alphaPattern.allSatisfy { $0.alpha > 0 && $0.alpha.isFinite },
                "accepted a non-positive pattern value")
        let again: LoRAConfig
        do {
            again = try LoRAConfig(json: Array(written(config).serialized.utf8), path: "written.json")
        } catch {
            require(false, "the config written back is rejected: \(error)")
            return
        }
        require(same(config, again), "the config written back parses to other fields")
        for name in ["layers.0.proj", "proj"] + config.rankPattern.map(\.key) + config.alphaPattern.map(\.key) {
            require(config.rank(of: name) > 0 && config.scale(of: name).isFinite, "module '\(name)': rank or scale out of range")
        }

        AdapterFixture.prepare()
        FuzzScratch.store("adapter/" + LoRAAdapter.configName, bytes)
        guard let adapter = try? LoRAAdapter(path: FuzzScratch.directory + "adapter") else { return }
        require(adapter.modules.count == 1, "\(adapter.modules.count) modules from a file with one")
        let module = adapter.modules[0]
        require(module.name == "layers.0.proj" && module.rank == 2 && module.rank == config.rank(of: module.name),
                "module '\(module.name)' of rank \(module.rank)")
        require(module.scale == config.scale(of: module.name), "module scale \(module.scale), config's \(config.scale(of: module.name))")
        let shape = config.fanInFanOut ? (3, 4) : (4, 3)
        require(module.rows == shape.0 && module.columns == shape.1, "base shape \(module.rows) × \(module.columns)")
    }
}

/// The config's fields as PEFT writes them.
private func written(_ config: LoRAConfig) -> JSONValue {
    func number(_ x: Double) -> JSONValue { .number(String(x)) }
    var members: [(key: String, value: JSONValue)] = [
        ("peft_type", .string("LORA")), ("r", .number(String(config.rank))), ("lora_alpha", number(config.alpha)),
        ("use_rslora", .bool(config.usesRSLoRA)), ("fan_in_fan_out", .bool(config.fanInFanOut)),
        ("rank_pattern", .object(config.rankPattern.map { ($0.key, .number(String($0.rank))) })),
        ("alpha_pattern", .object(config.alphaPattern.map { ($0.key, number($0.alpha)) })),
    ]
    if let base = config.baseModel { members.append(("base_model_name_or_path", .string(base))) }
    if let task = config.taskType { members.append(("task_type", .string(task))) }
    return .object(members)
}

private func same(_ a: LoRAConfig, _ b: LoRAConfig) -> Bool {
    a.rank == b.rank && a.alpha == b.alpha && a.usesRSLoRA == b.usesRSLoRA && a.fanInFanOut == b.fanInFanOut
        && a.rankPattern.elementsEqual(b.rankPattern) { $0.key == $1.key && $0.rank == $1.rank }
        && a.alphaPattern.elementsEqual(b.alphaPattern) { $0.key == $1.key && $0.alpha == $1.alpha }
        && a.baseModel == b.baseModel && a.taskType == b.taskType
}

/// The adapter directory the target's configs are opened in, with its weights written once.
enum AdapterFixture {
    nonisolated(unsafe) private static var written = false

    static func prepare() {
        guard !written else { return }
        written = true
        mkdir(FuzzScratch.directory + "adapter", 0o700)
        let prefix = LoRAAdapter.keyPrefix + "layers.0.proj"
        let entries = [TensorEntry(name: prefix + ".lora_A.weight", dtype: .f32, shape: [2, 3], dataOffsets: 0..<24),
                       TensorEntry(name: prefix + ".lora_B.weight", dtype: .f32, shape: [4, 2], dataOffsets: 24..<56)]
        FuzzScratch.store("adapter/" + LoRAAdapter.weightsName,
                          SafetensorsHeader.encode(entries: entries, metadata: [("format", "pt")]) + [UInt8](repeating: 0, count: 56))
    }
}
