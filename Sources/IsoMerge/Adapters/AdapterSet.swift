import Linalg

/// The adapters of one merge and the union of the modules they adapt, each matched to its base
/// weight `<module>.weight` (m × n: out × in, or in × out with fan_in_fan_out). A module that an
/// adapter does not adapt is a zero task vector for that task. Checked on making: adapters agree on
/// each module's shape and on fan_in_fan_out, and, with a base, every module has a 2-D float base
/// tensor of its shape; every mismatch is reported at once, naming the adapter, module and tensor.
public struct AdapterSet: Sendable {
    /// One module of the union.
    public struct Module: Sendable {
        public let name: String
        /// Its base weight's name, `<module>.weight`.
        public let tensor: String
        public let rows: Int, columns: Int
        /// Per task, the adapter's module, or nil where it is not adapted.
        public let tasks: [LoRAAdapter.Module?]
        /// Σ r_t over the tasks that adapt it.
        public var totalRank: Int { tasks.reduce(0) { $0 + ($1?.rank ?? 0) } }
    }

    public let adapters: [LoRAAdapter]
    /// The union, in order of first appearance (adapter by adapter, file order).
    public let modules: [Module]
    /// Whether the base weights are stored in × out (all adapters agree).
    public let fanInFanOut: Bool

    public init(adapters: [LoRAAdapter], base: Checkpoint? = nil) throws(MergeError) {
        var problems: [String] = []
        if adapters.isEmpty { problems.append("no adapters: a merge needs at least one (T ≥ 1)") }
        let fanInFanOut = adapters.first?.config.fanInFanOut ?? false
        for adapter in adapters where adapter.config.fanInFanOut != fanInFanOut {
            problems.append("\(adapter.path): fan_in_fan_out is \(adapter.config.fanInFanOut) but \(adapters[0].path) has "
                            + "\(fanInFanOut); adapters of one base model agree on it")
        }
        var names: [String] = []
        var seen: Set<String> = []
        for adapter in adapters {
            for module in adapter.modules where seen.insert(module.name).inserted { names.append(module.name) }
        }
        var modules: [Module] = []
        for name in names {
            let tasks = adapters.map { $0.module(named: name) }
            let first = tasks.compactMap { $0 }.first!
            for (adapter, task) in zip(adapters, tasks) {
                if let task, (task.rows, task.columns) != (first.rows, first.columns) {
                    problems.append("\(adapter.path): module '\(name)': updates a \(task.rows) × \(task.columns) weight, but another "
                                    + "adapter's updates a \(first.rows) × \(first.columns) one")
                }
            }
            let module = Module(name: name, tensor: name + ".weight", rows: first.rows, columns: first.columns, tasks: tasks)
            if let base {
                let users = zip(adapters, tasks).filter { $0.1 != nil }.map(\.0.path).joined(separator: ", ")
                if let (_, entry) = base.tensor(named: module.tensor) {
                    if entry.shape != [module.rows, module.columns] || !entry.dtype.isConvertibleFloat {
                        problems.append("\(base.path): tensor '\(module.tensor)' is \(entry.dtype.rawValue) \(entry.shape), but module "
                                        + "'\(name)' of \(users) updates a \(module.rows) × \(module.columns) float weight"
                                        + (fanInFanOut ? " (fan_in_fan_out: in × out)" : " (out × in)"))
                    }
                } else {
                    problems.append("\(base.path): has no tensor '\(module.tensor)' for module '\(name)' of \(users)")
                }
            }
            modules.append(module)
        }
        if !problems.isEmpty { throw MergeError(problems) }
        self.adapters = adapters
        self.modules = modules
        self.fanInFanOut = fanInFanOut
    }

    /// Each task's factors of `module` in T (nil where not adapted).
    func factors<T: LinalgScalar>(of module: Module, as _: T.Type) throws -> [(left: Matrix<T>, right: Matrix<T>)?] {
        try zip(adapters, module.tasks).map { adapter, task in try task.map { try adapter.factors(of: $0, as: T.self) } }
    }

    /// The low-rank task vectors of `module` in T.
    func taskVectors<T: LinalgScalar>(of module: Module, as _: T.Type, threads: Int?) throws -> LowRankTaskVectors<T> {
        LowRankTaskVectors(factors: try factors(of: module, as: T.self), rows: module.rows, columns: module.columns, threads: threads)
    }

    /// The dense τ_t of `module`, each computed in Double from the factors and rounded once to T
    /// (zeros where not adapted).
    func denseTaskVectors<T: LinalgScalar>(of module: Module, as _: T.Type, threads: Int?) throws -> [[T]] {
        try factors(of: module, as: Double.self).map { pair in
            guard let pair else { return [T](repeating: 0, count: module.rows * module.columns) }
            return product(pair.left, pair.right, transposeB: true, threads: threads).elements.map { T($0) }
        }
    }

    /// Whether every factor of `module` is zero (a frozen module: τ_M = 0 without any work).
    func isFrozen(_ module: Module) throws -> Bool {
        try factors(of: module, as: Float.self).allSatisfy { pair in
            pair.map { $0.left.elements.allSatisfy { $0 == 0 } || $0.right.elements.allSatisfy { $0 == 0 } } ?? true
        }
    }
}
