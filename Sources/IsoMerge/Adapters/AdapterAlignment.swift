import Foundation
import Linalg

extension AlignmentReport {
    /// The analysis of PEFT adapters, as that of their densified checkpoints: every adapted module
    /// whose weight's name contains none of `exclude` and that some adapter changes, with its task
    /// vectors τ_t = s·B·A (zero for an adapter without the module) and each rule's τ_M as
    /// `AdapterMerge` computes it (factored where the rule allows). Cost per module: T dense m × n
    /// task vectors and the dense analysis' SVDs (`SubspaceAlignment`), on top of the merges.
    public static func compute(adapters: [LoRAAdapter], base: Checkpoint?, rules: [any MergeRule],
                               exclude: [String] = defaultExcludedSubstrings, precision: Precision = .float32, threads: Int? = nil,
                               plotTensor requested: String? = nil, progress: ((MergeProgress) -> Void)? = nil) throws -> AlignmentReport {
        guard !rules.isEmpty else { throw MergeError("the analysis needs at least one method") }
        let merges = try rules.map { rule in
            var options = MergeOptions(rule: rule)
            options.precision = precision
            options.threads = threads
            return try AdapterMerge(adapters: adapters, base: base, options: options)
        }
        let set = merges[0].adapters
        let modules = try set.modules.filter { module in
            if exclude.contains(where: { !$0.isEmpty && module.tensor.contains($0) }) { return false }
            return try !set.isFrozen(module)
        }
        if let requested, !modules.contains(where: { $0.tensor == requested }) {
            throw MergeError("tensor '\(requested)' is not the weight of a module the adapters change (e.g. '\(modules.first?.tensor ?? "")')")
        }
        let pass = TensorPass(threads: threads, progress: progress)
        switch precision {
        case .float32: return try compute(Float.self, merges: merges, modules: modules, pass: pass, plotTensor: requested)
        case .float64: return try compute(Double.self, merges: merges, modules: modules, pass: pass, plotTensor: requested)
        }
    }

    private static func compute<T: LinalgScalar>(_: T.Type, merges: [AdapterMerge], modules: [AdapterSet.Module], pass: TensorPass,
                                                 plotTensor requested: String?) throws -> AlignmentReport {
        let denseMergers = try merges.map { try $0.denseMergerIfNeeded(T.self, pass: pass) }
        let set = merges[0].adapters
        return try assemble(tasks: set.adapters.map { ($0.path as NSString).lastPathComponent }, methods: merges.map(\.options.rule.name),
                            tensors: modules.map { ($0.tensor, $0.rows, $0.columns) }, pass: pass, plotTensor: requested) { index, threads in
            let module = modules[index]
            let taskVectors = try set.denseTaskVectors(of: module, as: T.self, threads: threads)
            let merged = try zip(merges, denseMergers).map { merge, dense -> [T] in
                switch try merge.merge(module, as: T.self, dense: dense, threads: threads) {
                case let .lowRank(result): return result.dense(threads: threads).elements
                case let .dense(result): return result.elements
                }
            }
            return (taskVectors, merged)
        }
    }
}
