/// One value of a parsed pickle. Scalars are held directly; containers and records are nodes of
/// the `PickleGraph`, referred to by index, so that shared and even cyclic references (which a
/// pickle's memo allows) cost nothing to hold or release: no reference counting chain exists
/// whose release could recurse.
public enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits: its little-endian two's-complement bytes.
    case bigInteger([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A `module.name` reference. Never imported: only the allow-listed ones mean anything.
    indirect case global(module: String, name: String)
    /// A container or record: index into `PickleGraph.nodes`.
    case node(Int)

    /// What the value is, for error messages (`string 'abc'`, `os.system`, `tuple`, …).
    func describe(in graph: PickleGraph) -> String {
        switch self {
        case .none: return "None"
        case let .bool(flag): return flag ? "True" : "False"
        case let .int(value): return "int \(value)"
        case .bigInteger: return "an integer beyond 64 bits"
        case let .float(value): return "float \(value)"
        case let .string(text): return "string '\(text.count > 40 ? text.prefix(40) + "…" : text)'"
        case let .bytes(data): return "\(data.count) bytes"
        case let .global(module, name): return "\(module).\(name)"
        case let .node(index): return graph.nodes[index].kind
        }
    }
}

/// Keys that `PickleNode.dict` indexes for SETITEM's replace-on-repeat: the hashable scalars.
public enum PickleKey: Hashable, Sendable {
    case none, bool(Bool), int(Int), string(String), bytes([UInt8])

    init?(_ value: PickleValue) {
        switch value {
        case .none: self = .none
        case let .bool(flag): self = .bool(flag)
        case let .int(number): self = .int(number)
        case let .string(text): self = .string(text)
        case let .bytes(data): self = .bytes(data)
        default: return nil
        }
    }
}

/// An instance of a class IsoMerge does not know, or the result of a call it does not make:
/// kept as data, never constructed. `state` is what BUILD (`__setstate__`) received, `items` and
/// `elements` what SETITEMS and APPENDS added (dict and list subclasses).
public struct PickleRecord: Sendable {
    public enum Origin: Sendable, Equatable {
        /// `cls.__new__(cls, *arguments)` (NEWOBJ, NEWOBJ_EX, OBJ, INST, copyreg._reconstructor):
        /// an object whose attributes arrive by BUILD.
        case instance
        /// `callable(*arguments)` (REDUCE) of a callable outside the allow-list: the call is not
        /// made, so the value is unknown. It may sit in an opaque object's state (a torchvision
        /// enum in a pickled preprocessing pipeline); it is an error wherever a tensor is looked
        /// for, and when nothing refers to it (an injected call whose result is discarded).
        case call
    }

    public let origin: Origin
    /// The class or callable (normally a `.global`).
    public let type: PickleValue
    public let arguments: [PickleValue]
    public var state: PickleValue?
    public var items: [(key: PickleValue, value: PickleValue)] = []
    public var elements: [PickleValue] = []

    /// `module.name` of the class or callable.
    public var typeName: String {
        if case let .global(module, name) = type { return "\(module).\(name)" }
        return "an unnamed callable"
    }
}

/// A container or record of a parsed pickle.
public enum PickleNode: Sendable {
    case tuple([PickleValue])
    case list([PickleValue])
    /// Insertion-ordered; a scalar key set twice keeps its first position and its last value.
    indirect case dict(entries: [(key: PickleValue, value: PickleValue)], index: [PickleKey: Int])
    case set([PickleValue])
    indirect case record(PickleRecord)
    /// A torch storage named by a persistent id.
    indirect case storage(TorchStorageReference)
    /// A tensor rebuilt by an allow-listed torch function (not yet checked against its storage).
    indirect case tensor(TorchTensorReference)

    var kind: String {
        switch self {
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set: return "set"
        case let .record(record): return record.origin == .call ? "the result of calling \(record.typeName)" : "a \(record.typeName) object"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// The values this node refers to, in order (dict: key, value, key, value, …).
    var children: [PickleValue] {
        switch self {
        case let .tuple(values), let .list(values), let .set(values): return values
        case let .dict(entries, _): return entries.flatMap { [$0.key, $0.value] }
        case let .record(record):
            return [record.type] + record.arguments + (record.state.map { [$0] } ?? []) + record.items.flatMap { [$0.key, $0.value] }
                + record.elements
        case .storage, .tensor: return []
        }
    }
}

/// A parsed pickle: the value STOP returned and every node it may refer to.
public struct PickleGraph: Sendable {
    public internal(set) var nodes: [PickleNode] = []
    public internal(set) var root: PickleValue = .none

    /// The node `value` refers to, or nil for a scalar.
    public func node(_ value: PickleValue) -> PickleNode? {
        if case let .node(index) = value { return nodes[index] }
        return nil
    }

    /// The entries of a dict node, or nil.
    func dictEntries(_ value: PickleValue) -> [(key: PickleValue, value: PickleValue)]? {
        if case let .dict(entries, _)? = node(value) { return entries }
        return nil
    }

    /// The longest chain of nested nodes below `root`, references back into the chain (cycles)
    /// not followed, and which nodes `root` reaches. Iterative (explicit stack), each node
    /// visited once: O(nodes + references).
    func nestingDepth() -> (depth: Int, reachable: [Bool]) {
        guard case let .node(start) = root else { return (0, [Bool](repeating: false, count: nodes.count)) }
        // 0 = unvisited, 1 = on the current chain, 2 = done (height known).
        var state = [UInt8](repeating: 0, count: nodes.count)
        var height = [Int](repeating: 0, count: nodes.count)
        var stack: [(node: Int, children: [PickleValue], next: Int)] = [(start, nodes[start].children, 0)]
        state[start] = 1
        while !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].next < stack[top].children.count {
                let child = stack[top].children[stack[top].next]
                stack[top].next += 1
                guard case let .node(index) = child else { continue }
                switch state[index] {
                case 0:
                    state[index] = 1
                    stack.append((index, nodes[index].children, 0))
                case 2: height[stack[top].node] = max(height[stack[top].node], height[index] + 1)
                default: break
                }
            } else {
                let finished = stack.removeLast().node
                state[finished] = 2
                if let parent = stack.last?.node { height[parent] = max(height[parent], height[finished] + 1) }
            }
        }
        return (height[start] + 1, state.map { $0 != 0 })
    }
}
