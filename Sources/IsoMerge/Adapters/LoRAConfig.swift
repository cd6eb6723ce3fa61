/// The fields of a PEFT LoRA `adapter_config.json` that decide what an adapter adds to its base:
/// τ = s·B·A per adapted module, s = α/r (or α/√r with `use_rslora`), r and α per module from
/// `rank_pattern` / `alpha_pattern` when a key there names it, and with `fan_in_fan_out` the base
/// weight stored transposed (in × out, GPT-2's Conv1D), so τ = s·(B·A)ᵀ.
///
/// Pattern keys name modules as PEFT matches them: the whole module name or a suffix of it that
/// starts after a dot (`layers.0.self_attn.q_proj` matches `model.layers.0.self_attn.q_proj`);
/// IsoMerge reads them literally, not as regular expressions.
public struct LoRAConfig: Sendable {
    public let rank: Int
    public let alpha: Double
    public let usesRSLoRA: Bool
    public let fanInFanOut: Bool
    public let rankPattern: [(key: String, rank: Int)]
    public let alphaPattern: [(key: String, alpha: Double)]
    /// `base_model_name_or_path`, when the file has one.
    public let baseModel: String?
    /// `task_type` (`CAUSAL_LM`, …), when the file has one.
    public let taskType: String?

    public init(rank: Int, alpha: Double, usesRSLoRA: Bool = false, fanInFanOut: Bool = false,
                rankPattern: [(key: String, rank: Int)] = [], alphaPattern: [(key: String, alpha: Double)] = [], baseModel: String? = nil,
                taskType: String? = nil) {
        self.rank = rank
        self.alpha = alpha
        self.usesRSLoRA = usesRSLoRA
        self.fanInFanOut = fanInFanOut
        self.rankPattern = rankPattern
        self.alphaPattern = alphaPattern
        self.baseModel = baseModel
        self.taskType = taskType
    }

    /// Parses the JSON of `path`; errors name the file and the field.
    public init(json bytes: [UInt8], path: String) throws(MergeError) {
        let root: JSONValue
        do { root = try JSONValue.parse(bytes) } catch { throw MergeError("\(path): not valid JSON: \(error)") }
        guard case .object = root else { throw MergeError("\(path): is \(root.kind), not a JSON object") }
        func problem(_ text: String) -> MergeError { MergeError("\(path): \(text)") }
        if let type = root["peft_type"], type != .string("LORA") {
            throw problem("peft_type is \(type.serialized); IsoMerge merges LoRA adapters (\"LORA\")")
        }
        if root["use_dora"] == .bool(true) { throw problem("use_dora is true; DoRA adapters are not plain low-rank updates and are not supported") }
        guard let rank = root["r"]?.nonNegativeInteger, rank > 0 else { throw problem("\"r\" must be a positive integer") }
        guard let alpha = root["lora_alpha"]?.double, alpha.isFinite else { throw problem("\"lora_alpha\" must be a number") }
        func flag(_ key: String) throws(MergeError) -> Bool {
            switch root[key] {
            case nil, .null?: return false
            case let .bool(value)?: return value
            case let other?: throw problem("\"\(key)\" must be true or false, not \(other.kind)")
            }
        }
        func pattern(_ key: String) throws(MergeError) -> [(key: String, value: Double)] {
            switch root[key] {
            case nil, .null?: return []
            case let .object(members)?:
                var result: [(key: String, value: Double)] = []
                for (name, value) in members {
                    guard let number = value.double, number.isFinite, number > 0 else {
                        throw problem("\"\(key)\": \"\(name)\" must be a positive number")
                    }
                    result.append((name, number))
                }
                return result
            case let other?: throw problem("\"\(key)\" must be an object, not \(other.kind)")
            }
        }
        let ranks = try pattern("rank_pattern")
        if let bad = ranks.first(where: { $0.value != $0.value.rounded() || $0.value > Double(Int32.max) }) {
            throw problem("\"rank_pattern\": \"\(bad.key)\" must be an integer from 1 to \(Int32.max)")
        }
        func string(_ key: String) -> String? {
            if case let .string(text)? = root[key] { return text }
            return nil
        }
        self.init(rank: rank, alpha: alpha, usesRSLoRA: try flag("use_rslora"), fanInFanOut: try flag("fan_in_fan_out"),
                  rankPattern: ranks.map { ($0.key, Int($0.value)) }, alphaPattern: try pattern("alpha_pattern").map { ($0.key, $0.value) },
                  baseModel: string("base_model_name_or_path"), taskType: string("task_type"))
    }

    /// Whether pattern key `key` names `module`: equal, or a suffix starting after a dot.
    static func matches(_ key: String, _ module: String) -> Bool {
        module == key || module.hasSuffix("." + key)
    }

    /// The rank PEFT gives `module`: the first rank_pattern key that names it, else r.
    public func rank(of module: String) -> Int {
        rankPattern.first { Self.matches($0.key, module) }?.rank ?? rank
    }

    /// s of `module`: α/r, or α/√r with rslora, both from the patterns when they name it.
    public func scale(of module: String) -> Double {
        let r = Double(rank(of: module))
        let a = alphaPattern.first { Self.matches($0.key, module) }?.alpha ?? alpha
        return usesRSLoRA ? a / r.squareRoot() : a / r
    }
}
