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
    public let methods: [MergeMethod]
    public let tensors: [String]
    /// entries[method][i] belongs to tensors[i].
    public let entries: [MergeMethod: [Entry]]
    /// The tensor whose spectra are kept, and the singular values of its τ_M per method in `methods`.
    public let plotTensor: String?
    public let spectra: [MergeMethod: [Double]]

    /// Mean SAR over tensors and tasks.
    public func average(_ method: MergeMethod) -> Double {
        let all = entries[method]!.flatMap(\.ratios)
        return all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count)
    }

    /// Mean SAR of each task over tensors.
    public func perTask(_ method: MergeMethod) -> [Double] {
        let rows = entries[method]!
        return tasks.indices.map { t in rows.isEmpty ? 0 : rows.reduce(0) { $0 + $1.ratios[t] } / Double(rows.count) }
    }

    /// Mean SAR per layer (tensors grouped by `layer`), layers in natural order (resblocks.2 before
    /// resblocks.10).
    public func perLayer(_ method: MergeMethod) -> [(layer: String, average: Double)] {
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
    static func naturallyBefore(_ a: String, _ b: String) -> Bool {
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

    /// Runs the analysis. `plotTensor` nil: the matrix-path tensor with the largest task vectors
    /// (Σ_t ‖τ_t‖_F²), where the methods' spectra differ most visibly.
    public static func compute(base: Checkpoint, models: [Checkpoint], methods: [MergeMethod], options: MergeOptions,
                               plotTensor requested: String? = nil, progress: ((MergeProgress) -> Void)? = nil) throws -> AlignmentReport {
        var engines: [MergeMethod: MergeEngine] = [:]
        for method in methods {
            var methodOptions = options
            methodOptions.method = method
            engines[method] = try MergeEngine(base: base, models: models, options: methodOptions)
        }
        let reference = engines[methods.first ?? .isoC]!
        let matrices = reference.plan.filter { $0.merged && options.takesMatrixPath(name: $0.name, shape: $0.entry.shape) }
        if let requested, !matrices.contains(where: { $0.name == requested }) {
            throw MergeError("\(base.path): tensor '\(requested)' is not a matrix-path tensor to plot")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var ties: TIESModelState<Float>?
        if methods.contains(.ties) && !options.tiesPerTensor {
            ties = try TIESModelState<Float>.prepare(engine: engines[.ties]!, start: start)
        }
        var entries: [MergeMethod: [Entry]] = Dictionary(uniqueKeysWithValues: methods.map { ($0, []) })
        var spectra: [String: [MergeMethod: [Double]]] = [:]
        var taskVectorEnergy: [String: Double] = [:]
        // Tensors side by side, one core each (their SVDs are largely single-threaded), reported in order.
        let (allEngines, tiesState) = (engines, ties)
        try reference.sideBySide(sizes: matrices.map(\.entry.elementCount),
                                 job: { index, threads in
                                     let item = matrices[index]
                                     return try analyze(item.name, shape: item.entry.shape, methods: methods, engines: allEngines,
                                                        reference: reference, ties: tiesState, threads: threads)
                                 },
                                 consume: { index, result in
                                     let name = matrices[index].name
                                     for method in methods { entries[method]!.append(result.methods[method]!.0) }
                                     spectra[name] = result.methods.mapValues(\.1)
                                     taskVectorEnergy[name] = result.taskVectorEnergy
                                     progress?(MergeProgress(index: index + 1, count: matrices.count, tensor: matrices[index].name,
                                                             bytesDone: 0, bytesTotal: 0, elapsed: seconds(since: start), phase: "alignment"))
                                 })
        let plotTensor = requested ?? matrices.map(\.name).max { taskVectorEnergy[$0]! < taskVectorEnergy[$1]! }
        return AlignmentReport(tasks: models.map { ($0.path as NSString).lastPathComponent }, methods: methods,
                               tensors: matrices.map(\.name), entries: entries, plotTensor: plotTensor,
                               spectra: plotTensor.flatMap { spectra[$0] } ?? [:])
    }

    /// One tensor under each method: its entry and τ_M's spectrum; and Σ_t ‖τ_t‖_F².
    static func analyze(_ name: String, shape: [Int], methods: [MergeMethod], engines: [MergeMethod: MergeEngine],
                        reference: MergeEngine, ties: TIESModelState<Float>?, threads: Int?)
        throws -> (methods: [MergeMethod: (Entry, [Double])], taskVectorEnergy: Double) {
        let (rows, columns) = (shape[0], shape[1])
        let taskVectors: [[Float]] = try reference.taskVectors(of: name)
        let energy = taskVectors.reduce(0.0) { sum, tau in tau.reduce(sum) { $0 + Double($1) * Double($1) } }
        let matrixTaskVectors = taskVectors.map { Matrix(rows: rows, columns: columns, elements: $0) }
        var result: [MergeMethod: (Entry, [Double])] = [:]
        for method in methods {
            let merged = try engines[method]!.mergeTaskVectors(taskVectors, name: name, shape: shape,
                                                                ties: method == .ties ? ties : nil, threads: threads)
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
            methodMembers.append((method.rawValue, .object([
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
