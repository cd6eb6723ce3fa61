import Linalg

/// What writing a merged adapter did.
public struct AdapterReport: Sendable {
    public let outputPaths: [String]
    public let modules: Int
    /// r of `adapter_config.json`: the largest module rank (the others are in its rank_pattern).
    public let rank: Int
    /// The share of Σ_modules ‖τ_M‖_F² that the written ranks leave out (0 when every module is exact).
    public let discardedShare: Double
    /// The module that loses the largest share of its own ‖τ_M‖_F², and that share; nil when none loses any.
    public let largestDiscarded: (module: String, share: Double)?
}

/// Writes α·τ_M as a PEFT adapter directory: `adapter_model.safetensors` with
/// `base_model.model.<module>.lora_A.weight` (k × in) and `….lora_B.weight` (out × k) for the union
/// of the input modules, and `adapter_config.json` as PEFT writes it (`json.dumps(indent=2,
/// sort_keys=True)`), so that `PeftModel.from_pretrained` loads it.
///
/// The split: τ_M = left·rightᵀ in SVD order (left = Q_L·U·Σ, right = Q_R·V), so B = α·left and
/// A = rightᵀ (with fan_in_fan_out, A = α·leftᵀ and B = right): A has orthonormal rows. Each module
/// has r = lora_alpha = k, so s = 1 and B·A is α·τ_M itself; r is the largest k, and modules of
/// another k are listed in rank_pattern and alpha_pattern. k is min(Σr_t, m, n) for a factored
/// merge (exact: the SVD of the core drops nothing), or the requested rank (the best rank-k
/// approximation, its discarded share reported). Values in F32 (F64 in double precision) unless
/// an output dtype is given. The directory appears whole or not at all (`OutputTarget`).
final class AdapterWriter {
    let target: OutputTarget
    let adapters: AdapterSet
    let options: MergeOptions
    let metadata: [String: String]
    let overwrite: Bool
    /// Per module of `adapters.modules`, the rank written.
    let ranks: [Int]
    let dtype: DType

    init(target: OutputTarget, adapters: AdapterSet, rank: Int?, options: MergeOptions, metadata: [String: String], overwrite: Bool,
         inputs: [Checkpoint]) throws {
        try target.check(overwrite: overwrite, inputs: inputs)
        (self.target, self.adapters, self.options, self.metadata, self.overwrite) = (target, adapters, options, metadata, overwrite)
        ranks = adapters.modules.map { module in
            let full = min(module.totalRank, module.rows, module.columns)
            return min(rank ?? full, rank == nil ? full : min(module.rows, module.columns))
        }
        dtype = options.outputDType ?? (options.precision ?? .float32).dtype
    }

    static func key(_ module: String, _ half: String) -> String { LoRAAdapter.keyPrefix + module + ".lora_\(half).weight" }

    /// (out, in) of a module's PEFT factors.
    private func peftShape(_ module: AdapterSet.Module) -> (out: Int, in: Int) {
        adapters.fanInFanOut ? (module.columns, module.rows) : (module.rows, module.columns)
    }

    func write<T: LinalgScalar>(_ merge: AdapterMerge, _: T.Type, pass: TensorPass) throws -> AdapterReport {
        let modules = adapters.modules
        var specs: [TensorSpec] = []
        for (module, k) in zip(modules, ranks) {
            let (out, input) = peftShape(module)
            specs.append(TensorSpec(name: Self.key(module.name, "A"), dtype: dtype, shape: [k, input]))
            specs.append(TensorSpec(name: Self.key(module.name, "B"), dtype: dtype, shape: [out, k]))
        }
        let staging = try TemporaryDirectory(beside: try target.location())
        let weights = try CheckpointWriter(destination: staging.path + "/" + LoRAAdapter.weightsName, tensors: specs,
                                           metadata: metadata.merging(["format": "pt"]) { given, _ in given })
        // File order is by name: each module's A, then its B.
        let byKey = Dictionary(uniqueKeysWithValues: modules.indices.map { (Self.key(modules[$0].name, "A"), $0) })
        let order = stride(from: 0, to: weights.order.count, by: 2).map { byKey[weights.order[$0].name]! }
        for (position, index) in order.enumerated() where weights.order[2 * position + 1].name != Self.key(modules[index].name, "B") {
            throw MergeError("module '\(modules[index].name)': its lora_A and lora_B keys are not adjacent in file order; cannot stream the adapter")
        }
        let dense = try merge.denseMergerIfNeeded(T.self, pass: pass)
        let alpha = T(options.effectiveAlpha)
        let fanInFanOut = adapters.fanInFanOut
        var energy = 0.0, discarded = 0.0
        var largest: (module: String, share: Double)?
        do {
            try pass.run(names: order.map { modules[$0].name }, sizes: order.map { merge.workingSize(of: modules[$0]) }, phase: "merge",
                         job: { [ranks] position, threads in
                             let module = modules[order[position]], k = ranks[order[position]]
                             let (factors, share): (LowRankMatrix<T>, Double)
                             switch try merge.merge(module, as: T.self, dense: dense, threads: threads) {
                             case let .lowRank(result): (factors, share) = result.truncated(rank: k)
                             case let .dense(result): (factors, share) = try LowRankMatrix.leading(of: result, rank: k, threads: threads)
                             }
                             let moduleEnergy = factors.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) } / (1 - share)
                             var scaled = factors.left
                             scaled.withMutableView { v in for i in 0..<v.rows { for j in 0..<v.columns { v[i, j] *= alpha } } }
                             let (a, b) = fanInFanOut ? (scaled.transposed, factors.right) : (factors.right.transposed, scaled)
                             return (a, b, share, share < 1 ? moduleEnergy : 0)
                         },
                         consume: { position, result in
                             let module = modules[order[position]]
                             try result.0.elements.withUnsafeBufferPointer { try weights.write(Self.key(module.name, "A"), values: $0) }
                             try result.1.elements.withUnsafeBufferPointer { try weights.write(Self.key(module.name, "B"), values: $0) }
                             energy += result.3
                             discarded += result.2 * result.3
                             if result.2 > 0 && result.2 > (largest?.share ?? 0) { largest = (module.name, result.2) }
                         })
            try weights.finish()
            try writeFileAtomically(path: staging.path + "/" + LoRAAdapter.configName, bytes: Array(config.utf8), overwrite: false)
            try target.publish(directory: staging, overwrite: overwrite)
        } catch {
            weights.abandon()
            staging.remove()
            throw error
        }
        return AdapterReport(outputPaths: [LoRAAdapter.configName, LoRAAdapter.weightsName].map { target.path + "/" + $0 },
                             modules: modules.count, rank: ranks.max() ?? 0, discardedShare: energy > 0 ? discarded / energy : 0,
                             largestDiscarded: largest)
    }

    /// `adapter_config.json`: the fields of PEFT's LoraConfig that decide the update, with PEFT's
    /// defaults for the rest, formatted as PEFT's `json.dumps(indent=2, sort_keys=True)`.
    var config: String {
        let r = ranks.max() ?? 0
        let first = adapters.adapters[0].config
        let pattern = JSONValue.object(zip(adapters.modules, ranks).filter { $0.1 != r }.sorted { $0.0.name < $1.0.name }
            .map { ($0.0.name, .number(String($0.1))) })
        func string(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        let members: [(key: String, value: JSONValue)] = [
            ("alpha_pattern", pattern),
            ("auto_mapping", .null),
            ("base_model_name_or_path", string(first.baseModel)),
            ("bias", .string("none")),
            ("fan_in_fan_out", .bool(adapters.fanInFanOut)),
            ("inference_mode", .bool(true)),
            ("init_lora_weights", .bool(true)),
            ("layers_pattern", .null),
            ("layers_to_transform", .null),
            ("lora_alpha", .number(String(r))),
            ("lora_dropout", .number("0.0")),
            ("modules_to_save", .null),
            ("peft_type", .string("LORA")),
            ("r", .number(String(r))),
            ("rank_pattern", pattern),
            ("revision", .null),
            ("target_modules", .array(adapters.modules.map(\.name).sorted().map { .string($0) })),
            ("task_type", string(first.taskType)),
            ("use_dora", .bool(false)),
            ("use_rslora", .bool(false)),
        ]
        return Self.indented(.object(members), depth: 0) + "\n"
    }

    /// `value` as `json.dumps(value, indent=2)` prints it (keys in the order given).
    static func indented(_ value: JSONValue, depth: Int) -> String {
        let inner = String(repeating: " ", count: 2 * (depth + 1)), outer = String(repeating: " ", count: 2 * depth)
        switch value {
        case let .object(members) where !members.isEmpty:
            return "{\n" + members.map { inner + JSONValue.quote($0.key) + ": " + indented($0.value, depth: depth + 1) }.joined(separator: ",\n")
                + "\n" + outer + "}"
        case let .array(items) where !items.isEmpty:
            return "[\n" + items.map { inner + indented($0, depth: depth + 1) }.joined(separator: ",\n") + "\n" + outer + "]"
        default:
            return value.serialized
        }
    }
}
