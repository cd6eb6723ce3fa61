import Foundation
import Linalg

/// A PEFT LoRA adapter directory: `adapter_config.json` and `adapter_model.safetensors`, whose
/// tensors are `base_model.model.<module>.lora_A.weight` (r × in) and `….lora_B.weight`
/// (out × r) for each adapted module. Opening reads the config and the header and checks every
/// module (both halves present, shapes consistent, r as the config gives it); errors name the
/// file, the module and the problem. Factors are read on demand.
public final class LoRAAdapter: @unchecked Sendable {
    /// One adapted module.
    public struct Module: Sendable {
        /// The module's name in the base model (`model.layers.0.self_attn.q_proj`).
        public let name: String
        public let rank: Int
        /// s = α/r (α/√r with rslora).
        public let scale: Double
        /// The shape of the base weight it updates: out × in, or in × out with fan_in_fan_out.
        public let rows: Int, columns: Int
        let a: TensorEntry, b: TensorEntry
    }

    public let path: String
    public let config: LoRAConfig
    public let file: SafetensorsFile
    /// The adapted modules, in file order of their A halves.
    public let modules: [Module]
    private let index: [String: Int]

    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    /// What PEFT puts before the module name in a saved adapter's keys.
    public static let keyPrefix = "base_model.model."

    /// Opens the adapter directory `path`.
    public init(path: String) throws {
        let directory = path.hasSuffix("/") ? String(path.dropLast()) : path
        self.path = directory
        let configPath = directory + "/" + Self.configName
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw MergeError("\(directory): not a PEFT adapter directory (cannot read \(Self.configName))")
        }
        config = try LoRAConfig(json: [UInt8](data), path: configPath)
        file = try SafetensorsFile(path: directory + "/" + Self.weightsName)
        var halves: [String: (a: TensorEntry?, b: TensorEntry?)] = [:]
        var order: [String] = []
        var problems: [String] = []
        for entry in file.entries {
            guard entry.name.hasPrefix(Self.keyPrefix), let half = [".lora_A.weight", ".lora_B.weight"].first(where: entry.name.hasSuffix) else {
                problems.append("\(file.path): tensor '\(entry.name)' is not a LoRA factor (base_model.model.<module>.lora_A.weight or "
                                + ".lora_B.weight); modules_to_save, embeddings and DoRA magnitudes are not supported")
                continue
            }
            let module = String(entry.name.dropFirst(Self.keyPrefix.count).dropLast(half.count))
            if halves[module] == nil { order.append(module) }
            if half == ".lora_A.weight" { halves[module, default: (nil, nil)].a = entry } else { halves[module, default: (nil, nil)].b = entry }
        }
        var modules: [Module] = []
        for name in order {
            let (a, b) = halves[name]!
            guard let a, let b else {
                problems.append("\(file.path): module '\(name)': has lora_\(a == nil ? "B" : "A") but no lora_\(a == nil ? "A" : "B")")
                continue
            }
            guard a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1], a.dtype.isConvertibleFloat, b.dtype.isConvertibleFloat else {
                problems.append("\(file.path): module '\(name)': lora_A \(a.dtype.rawValue) \(a.shape) and lora_B \(b.dtype.rawValue) \(b.shape) "
                                + "are not r × in and out × r float matrices")
                continue
            }
            let rank = a.shape[0]
            if rank != config.rank(of: name) {
                problems.append("\(file.path): module '\(name)': its factors have rank \(rank) but \(Self.configName) gives r = "
                                + "\(config.rank(of: name)) (r or rank_pattern)")
                continue
            }
            let (out, input) = (b.shape[0], a.shape[1])
            let (rows, columns) = config.fanInFanOut ? (input, out) : (out, input)
            modules.append(Module(name: name, rank: rank, scale: config.scale(of: name), rows: rows, columns: columns, a: a, b: b))
        }
        if modules.isEmpty && problems.isEmpty { problems.append("\(file.path): holds no LoRA factors") }
        if !problems.isEmpty { throw MergeError(problems) }
        self.modules = modules
        index = Dictionary(uniqueKeysWithValues: modules.enumerated().map { ($1.name, $0) })
    }

    /// The module called `name`, or nil.
    public func module(named name: String) -> Module? { index[name].map { modules[$0] } }

    /// τ = L·Rᵀ of `module` in the base weight's layout (rows × columns): L = s·B, R = Aᵀ, or with
    /// fan_in_fan_out L = s·Aᵀ, R = B. Values read exactly (F16/BF16/F32 in Float or Double), the
    /// scale applied in T.
    public func factors<T: LinalgScalar>(of module: Module, as _: T.Type = T.self) throws -> (left: Matrix<T>, right: Matrix<T>) {
        let a = Matrix(rows: module.rank, columns: module.a.shape[1], elements: try file.values(of: module.a, as: T.self))
        let b = Matrix(rows: module.b.shape[0], columns: module.rank, elements: try file.values(of: module.b, as: T.self))
        try checkFinite(a.elements, module, "lora_A")
        try checkFinite(b.elements, module, "lora_B")
        let s = T(module.scale)
        let (left, right) = config.fanInFanOut ? (a.transposed, b) : (b, a.transposed)
        return (Matrix(rows: left.rows, columns: left.columns, elements: left.elements.map { $0 * s }), right)
    }

    private func checkFinite<T: LinalgScalar>(_ values: [T], _ module: Module, _ half: String) throws(MergeError) {
        if let index = firstNonFiniteIndex(values) {
            throw MergeError("\(file.path): module '\(module.name)': \(half) contains NaN or infinity (first at element \(index))")
        }
    }
}
