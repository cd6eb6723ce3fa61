/// Finds a checkpoint's tensors in a parsed pickle and names them as `model.state_dict()` would.
///
/// Selection: with a key, the top-level dict's value under that key. Without one, starting from
/// the top-level object, a dict that has a `state_dict`, `model_state_dict`, `model` or `module`
/// entry (checked in that order) whose value is a dict or a module is replaced by that value,
/// repeatedly (training checkpoints nest the weights beside optimizer state).
///
/// Naming of the selected value: a tensor under a dict key or list index is named by the dotted
/// path of keys and indices (`encoder.layers.0.weight`). A pickled `nn.Module` (an opaque object
/// whose state has `_parameters`) contributes as `Module.state_dict` does: its parameters, then
/// its persistent buffers (skipping `_non_persistent_buffers_set`), then its submodules under
/// `name.`; None entries are skipped. Other opaque objects and plain values (numbers, strings)
/// hold no weights and are passed over; the result of a call IsoMerge does not make is an error
/// naming the callable. Names must be unique.
///
/// Walks are bounded: nesting by `PickleLimits.maximumDepth`, the number of values visited by
/// 16 × the graph's node count + 65 536, so that shared references multiplying paths (a
/// "billion laughs" pickle) are refused instead of walked, and names by `maximumNameBytes`, so
/// that a long key repeated along a path (a dict holding itself under it) cannot make each
/// visited name megabytes long.
struct StateDictNaming {
    let graph: PickleGraph
    let file: String
    let maximumDepth: Int
    let maximumVisits: Int
    private var visits = 0
    private(set) var tensors: [(name: String, tensor: TorchTensorReference)] = []
    private var names: Set<String> = []

    /// The longest name (UTF-8 bytes) a walk builds; real state dicts stay under a few hundred.
    static let maximumNameBytes = 4096

    /// The keys, in priority order, under which training checkpoints keep the weights.
    static let containerKeys = ["state_dict", "model_state_dict", "model", "module"]

    /// The named tensors of `graph`, selected by `key` or by the rule above.
    static func tensors(in graph: PickleGraph, key: String?, file: String,
                        limits: PickleLimits) throws(SafetensorsError) -> [(name: String, tensor: TorchTensorReference)] {
        var naming = StateDictNaming(graph: graph, file: file, maximumDepth: limits.maximumDepth,
                                     maximumVisits: 16 * graph.nodes.count + 65_536)
        let selected = try naming.select(key: key)
        try naming.collect(selected, prefix: "", depth: 0)
        guard !naming.tensors.isEmpty else {
            throw SafetensorsError(file: file, "holds no tensors (the \(key.map { "value under '\($0)'" } ?? "pickled object") is "
                                   + "\(selected.describe(in: graph)))")
        }
        return naming.tensors
    }

    func select(key: String?) throws(SafetensorsError) -> PickleValue {
        if let key {
            guard let entries = graph.dictEntries(graph.root) else {
                throw SafetensorsError(file: file, "the pickled object is \(graph.root.describe(in: graph)), not a dict: it has no key '\(key)'")
            }
            guard let value = entries.first(where: { $0.key == .string(key) })?.value else {
                let keys = entries.compactMap { entry -> String? in if case let .string(text) = entry.key { return "'\(text)'" } else { return nil } }
                throw SafetensorsError(file: file, "has no top-level key '\(key)' (its keys: \(keys.prefix(20).joined(separator: ", ")))")
            }
            return value
        }
        var current = graph.root
        for _ in 0..<maximumDepth {
            guard let entries = graph.dictEntries(current),
                  let next = Self.containerKeys.lazy.compactMap({ name in entries.first { $0.key == .string(name) }?.value })
                      .first(where: { graph.dictEntries($0) != nil || moduleState($0) != nil }) else {
                return current
            }
            current = next
        }
        return current
    }

    /// The attribute dict of a pickled module (an instance whose state holds `_parameters`).
    func moduleState(_ value: PickleValue) -> [(key: PickleValue, value: PickleValue)]? {
        guard case let .record(record)? = graph.node(value), record.origin == .instance, var state = record.state else { return nil }
        // `__getstate__` may return (dict, slots).
        if case let .tuple(parts)? = graph.node(state), let first = parts.first { state = first }
        guard let entries = graph.dictEntries(state), entries.contains(where: { $0.key == .string("_parameters") }) else { return nil }
        return entries
    }

    mutating func visit(_ prefix: String, depth: Int) throws(SafetensorsError) {
        visits += 1
        guard visits <= maximumVisits else {
            throw SafetensorsError(file: file, "walking the pickle's objects took over \(maximumVisits) steps (near '\(prefix.prefix(80))'): "
                                   + "shared references multiply its paths")
        }
        guard depth <= maximumDepth else {
            throw SafetensorsError(file: file, "objects under '\(prefix.prefix(80))' nest deeper than \(maximumDepth) levels (a cycle?)")
        }
        guard prefix.utf8.count <= Self.maximumNameBytes else {
            throw SafetensorsError(file: file, "a name under '\(prefix.prefix(80))' is longer than \(Self.maximumNameBytes) bytes")
        }
    }

    mutating func add(_ name: String, _ tensor: TorchTensorReference) throws(SafetensorsError) {
        guard !name.isEmpty else { throw SafetensorsError(file: file, "the pickled object is a single tensor, not a state dict") }
        guard names.insert(name).inserted else { throw SafetensorsError(file: file, tensor: name, "two tensors have this name") }
        tensors.append((name, tensor))
    }

    /// Adds the tensors under `value`, named `prefix` + their path.
    mutating func collect(_ value: PickleValue, prefix: String, depth: Int) throws(SafetensorsError) {
        try visit(prefix, depth: depth)
        guard case let .node(index) = value else { return }
        switch graph.nodes[index] {
        case let .tensor(tensor):
            try add(prefix.isEmpty ? "" : String(prefix.dropLast()), tensor)
        case let .dict(entries, _):
            for (key, item) in entries {
                try collect(item, prefix: prefix + (try keyName(key, under: prefix)) + ".", depth: depth + 1)
            }
        case let .list(items), let .tuple(items):
            for (position, item) in items.enumerated() { try collect(item, prefix: prefix + "\(position).", depth: depth + 1) }
        case let .record(record):
            if let state = moduleState(value) {
                try collectModule(state, prefix: prefix, depth: depth + 1)
            } else if record.origin == .call {
                throw unresolved(record, at: prefix)
            } else {
                for (key, item) in record.items {
                    try collect(item, prefix: prefix + (try keyName(key, under: prefix)) + ".", depth: depth + 1)
                }
                for (position, item) in record.elements.enumerated() {
                    try collect(item, prefix: prefix + "\(position).", depth: depth + 1)
                }
            }
        case .set, .storage:
            return
        }
    }

    /// A module's parameters, persistent buffers, then submodules, as `Module.state_dict` orders them.
    mutating func collectModule(_ state: [(key: PickleValue, value: PickleValue)], prefix: String, depth: Int) throws(SafetensorsError) {
        func attribute(_ name: String) -> PickleValue? { state.first { $0.key == .string(name) }?.value }
        var skippedBuffers: Set<String> = []
        if let nonPersistent = attribute("_non_persistent_buffers_set"), case let .set(items)? = graph.node(nonPersistent) {
            for case let .string(name) in items { skippedBuffers.insert(name) }
        }
        for (group, skipped) in [("_parameters", Set<String>()), ("_buffers", skippedBuffers)] {
            guard let members = attribute(group) else { continue }
            guard let entries = graph.dictEntries(members) else {
                throw SafetensorsError(file: file, "module '\(prefix)' has \(group) = \(members.describe(in: graph)), not a dict")
            }
            for (key, member) in entries {
                let name = try keyName(key, under: prefix)
                try visit(prefix + name, depth: depth)
                if member == .none || skipped.contains(name) { continue }
                guard case let .tensor(tensor)? = graph.node(member) else {
                    if case let .record(record)? = graph.node(member), record.origin == .call { throw unresolved(record, at: prefix + name + ".") }
                    throw SafetensorsError(file: file, tensor: prefix + name, "\(group) entry is \(member.describe(in: graph)), not a tensor")
                }
                try add(prefix + name, tensor)
            }
        }
        guard let modules = attribute("_modules") else { return }
        guard let children = graph.dictEntries(modules) else {
            throw SafetensorsError(file: file, "module '\(prefix)' has _modules = \(modules.describe(in: graph)), not a dict")
        }
        for (key, child) in children {
            let name = try keyName(key, under: prefix)
            try visit(prefix + name, depth: depth)
            if child == .none { continue }
            guard let childState = moduleState(child) else {
                if case let .record(record)? = graph.node(child), record.origin == .call { throw unresolved(record, at: prefix + name + ".") }
                throw SafetensorsError(file: file, "submodule '\(prefix + name)' is \(child.describe(in: graph)), not a module")
            }
            try collectModule(childState, prefix: prefix + name + ".", depth: depth + 1)
        }
    }

    func keyName(_ key: PickleValue, under prefix: String) throws(SafetensorsError) -> String {
        switch key {
        case let .string(text): return text
        case let .int(number): return String(number)
        default:
            throw SafetensorsError(file: file, "a key under '\(prefix)' is \(key.describe(in: graph)), not a string or integer")
        }
    }

    func unresolved(_ record: PickleRecord, at prefix: String) -> SafetensorsError {
        SafetensorsError(file: file, tensor: prefix.isEmpty ? nil : String(prefix.dropLast()),
                         "is the result of calling \(record.typeName), which is never called (only torch's tensor rebuild "
                         + "functions and plain containers are interpreted)")
    }
}
