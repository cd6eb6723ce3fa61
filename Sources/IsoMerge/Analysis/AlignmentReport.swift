import Foundation
import Linalg

/// Subspace alignment of every matrix-path tensor under every requested method, computed
/// streaming like a merge (one tensor's task vectors in memory at a time): k_M, SAR per task,
/// ‖τ_M‖_F, and the shape of τ_M's spectrum — condition σ₁/σ_r (∞ when σ_r = 0) and flatness
/// σ̄/σ₁ (1 for a perfectly isotropic spectrum).
public struct AlignmentReport: Sendable {
    public struct Entry: Sendable {
        public let tensor: String
        public let layer: String
        public let rank: Int
        public let ratios: [Double]
        public let norm: Double
        public let condition: Double
        public let flatness: Double
        public var averageRatio: Double { ratios.isEmpty ? 0 : ratios.reduce(0, +) / Double(ratios.count) }
    }

    public let tasks: [String]
    /// The rules' names, in the order requested.
    public let methods: [String]
    public let tensors: [String]
    /// entries[method][i] belongs to tensors[i].
    public let entries: [String: [Entry]]
    /// The tensor whose spectra are kept, and the singular values of its τ_M per method in `methods`.
    public let plotTensor: String?
    public let spectra: [String: [Double]]

    /// Mean SAR over tensors and tasks.
    public func average(_ method: String) -> Double {
        let all = entries[method]!.flatMap(\.ratios)
        return all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count)
    }

    /// Mean SAR of each task over tensors.
    public func perTask(_ method: String) -> [Double] {
        let rows = entries[method]!
        return tasks.indices.map { t in rows.isEmpty ? 0 : rows.reduce(0) { $0 + $1.ratios[t] } / Double(rows.count) }
    }

    /// Mean SAR per layer (tensors grouped by `layer`), layers in natural order (resblocks.2 before
    /// resblocks.10).
    public func perLayer(_ method: String) -> [(layer: String, average: Double)] {
        var order: [String] = []
        var sums: [String: (Double, Int)] = [:]
        for entry in entries[method]! {
            if sums[entry.layer] == nil { order.append(entry.layer) }
            let (sum, count) = sums[entry.layer] ?? (0, 0)
            sums[entry.layer] = (sum + entry.averageRatio, count + 1)
        }
        return order.sorted(by: Self.naturallyBefore).map { ($0, sums[$0]!.0 / Double(sums[$0]!.1)) }
    }

    /// Compares dotted names component by component, numbers by value.
    public static func naturallyBefore(_ a: String, _ b: String) -> Bool {
        let (x, y) = (a.split(separator: "."), b.split(separator: "."))
        for (p, q) in zip(x, y) where p != q {
            if let i = Int(p), let j = Int(q) { return i < j }
            return p < q
        }
        return x.count < y.count
    }

    /// The layer a tensor belongs to: its name up to the first numeric component (e.g.
    /// `visual.transformer.resblocks.3`), or the name itself when it has none.
    public static func layer(of name: String) -> String {
        let parts = name.split(separator: ".")
        if let index = parts.firstIndex(where: { $0.allSatisfy(\.isNumber) }) {
            return parts[...index].joined(separator: ".")
        }
        return name
    }

    /// Runs the analysis over the 2-D float tensors whose name contains none of `exclude`, with
    /// each rule in `rules` (as the engine would merge them, in `precision`). `plotTensor` nil: the
    /// tensor with the largest task vectors (Σ_t ‖τ_t‖_F²), where the methods' spectra differ most
    /// visibly.
    public static func compute(base: Checkpoint, models: [Checkpoint], rules: [any MergeRule], exclude: [String] = defaultExcludedSubstrings,
                               precision: Precision = .float32, threads: Int? = nil, plotTensor requested: String? = nil,
                               progress: ((MergeProgress) -> Void)? = nil) throws -> AlignmentReport {
        let plan = try MergePlan(base: base, models: models, options: MergeOptions(rule: rules.first ?? Average()))
        let matrices = plan.mergedTensors.filter { tensor in
            tensor.entry.shape.count == 2 && !tensor.entry.shape.contains(0) && !exclude.contains { !$0.isEmpty && tensor.name.contains($0) }
        }
        if let requested, !matrices.contains(where: { $0.name == requested }) {
            throw MergeError("\(base.path): tensor '\(requested)' is not a matrix-path tensor to plot")
        }
        let pass = TensorPass(threads: threads, progress: progress)
        switch precision {
        case .float32: return try compute(Float.self, plan: plan, matrices: matrices, rules: rules, pass: pass, plotTensor: requested)
        case .float64: return try compute(Double.self, plan: plan, matrices: matrices, rules: rules, pass: pass, plotTensor: requested)
        }
    }

    private static func compute<T: LinalgScalar>(_: T.Type, plan: MergePlan, matrices: [MergePlan.Tensor], rules: [any MergeRule],
                                                 pass: TensorPass, plotTensor requested: String?) throws -> AlignmentReport {
        let source = TaskVectorSource<T>(plan: plan, pass: pass)
        let mergers: [TensorMerger<T>] = try rules.map { try $0.prepared(source) }
        return try assemble(tasks: plan.models.map { ($0.path as NSString).lastPathComponent }, methods: rules.map(\.name),
                            tensors: matrices.map { ($0.name, $0.entry.shape[0], $0.entry.shape[1]) }, pass: pass,
                            plotTensor: requested) { index, threads in
            let tensor = matrices[index]
            let taskVectors = try source.taskVectors(of: tensor.name)
            return (taskVectors, try mergers.map { try $0(taskVectors, tensor, threads) })
        }
    }

    /// The report from each tensor's task vectors and merges (`tensor(index, threads)`: τ_t and one
    /// τ_M per method), tensors side by side, one core each (their SVDs are largely single-threaded),
    /// reported in order.
    static func assemble<T: LinalgScalar>(tasks: [String], methods: [String], tensors: [(name: String, rows: Int, columns: Int)],
                                          pass: TensorPass, plotTensor requested: String?,
                                          tensor: @escaping @Sendable (_ index: Int, _ threads: Int?) throws -> (taskVectors: [[T]], merged: [[T]]))
        throws -> AlignmentReport {
        var entries: [String: [Entry]] = Dictionary(uniqueKeysWithValues: methods.map { ($0, []) })
        var spectra: [String: [String: [Double]]] = [:]
        var taskVectorEnergy: [String: Double] = [:]
        try pass.run(names: tensors.map(\.name), sizes: tensors.map { $0.rows * $0.columns }, phase: "alignment",
                     job: { index, threads in
                         let (taskVectors, merged) = try tensor(index, threads)
                         return try analyze(tensors[index], taskVectors: taskVectors, merged: merged, methods: methods, threads: threads)
                     },
                     consume: { index, result in
                         let name = tensors[index].name
                         for method in methods { entries[method]!.append(result.methods[method]!.0) }
                         spectra[name] = result.methods.mapValues(\.1)
                         taskVectorEnergy[name] = result.taskVectorEnergy
                     })
        let plotTensor = requested ?? tensors.map(\.name).max { taskVectorEnergy[$0]! < taskVectorEnergy[$1]! }
        return AlignmentReport(tasks: tasks, methods: methods, tensors: tensors.map(\.name), entries: entries, plotTensor: plotTensor,
                               spectra: plotTensor.flatMap { spectra[$0] } ?? [:])
    }

    /// One tensor under each method: its entry and τ_M's spectrum; and Σ_t ‖τ_t‖_F².
    private static func analyze<T: LinalgScalar>(_ tensor: (name: String, rows: Int, columns: Int), taskVectors: [[T]], merged: [[T]],
                                                 methods: [String], threads: Int?)
        throws -> (methods: [String: (Entry, [Double])], taskVectorEnergy: Double) {
        let (name, rows, columns) = tensor
        let energy = taskVectors.reduce(0.0) { sum, tau in tau.reduce(sum) { $0 + Double($1) * Double($1) } }
        let matrixTaskVectors = taskVectors.map { Matrix(rows: rows, columns: columns, elements: $0) }
        var result: [String: (Entry, [Double])] = [:]
        for (method, merged) in zip(methods, merged) {
            let alignment = try SubspaceAlignment(taskVectors: matrixTaskVectors,
                                                  merged: Matrix(rows: rows, columns: columns, elements: merged), threads: threads)
            let sigma = alignment.singularValues
            let largest = sigma.first ?? 0
            let mean = sigma.isEmpty ? 0 : sigma.reduce(0, +) / Double(sigma.count)
            let entry = Entry(
                tensor: name, layer: layer(of: name), rank: alignment.rank, ratios: alignment.ratios,
                norm: sigma.reduce(0) { $0 + $1 * $1 }.squareRoot(),
                condition: (sigma.last ?? 0) > 0 ? largest / sigma.last! : .infinity,
                flatness: largest > 0 ? mean / largest : 0)
            result[method] = (entry, sigma)
        }
        return (result, energy)
    }

    /// The JSON document: {"tasks": […], "methods": {name: {"average_sar", "per_task", "layers",
    /// "tensors": {NAME: {"k_m", "sar", "norm", "condition", "flatness"}}}}}.
    public var json: String {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(String(x)) : .null }
        var methodMembers: [(key: String, value: JSONValue)] = []
        for method in methods {
            let tensorMembers = entries[method]!.map { entry -> (key: String, value: JSONValue) in
                (entry.tensor, .object([("k_m", .number(String(entry.rank))), ("sar", .array(entry.ratios.map(number))),
                                        ("norm", number(entry.norm)), ("condition", number(entry.condition)),
                                        ("flatness", number(entry.flatness)), ("layer", .string(entry.layer))]))
            }
            methodMembers.append((method, .object([
                ("average_sar", number(average(method))),
                ("per_task", .array(perTask(method).map(number))),
                ("layers", .object(perLayer(method).map { ($0.layer, number($0.average)) })),
                ("tensors", .object(tensorMembers)),
            ])))
        }
        return JSONValue.object([("tasks", .array(tasks.map { .string($0) })), ("epsilon", number(SubspaceAlignment.epsilon)),
                                 ("methods", .object(methodMembers))]).serialized
    }
}
