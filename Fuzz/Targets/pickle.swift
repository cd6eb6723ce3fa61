@testable import IsoMerge

/// Pickles (`Pickle.parse`, the interpreter that reads every `.pt` checkpoint's data.pkl) under
/// limits small enough for inputs of a few KiB to reach each of them: 4 KiB, 256 objects, 16
/// levels. The input is also run one opcode at a time through the same `PickleMachine`.
///
/// Invariants, accepted or not: every opcode adds at most one node to the graph, one value to the
/// stack and one memo entry (work and memory are linear in the input, as `PickleLimits` states),
/// and the graph, the stack and the memo never hold more than `maximumObjects` each; memo indices
/// never exceed the input's length. For an accepted pickle: it is no longer than `maximumBytes`;
/// `Pickle.parse` gives the same graph as the step-by-step run and as a second parse
/// (deterministic); every node reference points into the graph; nesting below the root is at most
/// `maximumDepth`, and equals the longest path when the graph is acyclic; no refused global
/// (`os.system`, `builtins.eval`, …) appears anywhere; every call that is not made is reachable
/// from the root (an unreferenced one is an injected call and must be refused); every storage
/// and tensor has a valid layout (non-negative, overflow-free sizes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        var limits = PickleLimits()
        (limits.maximumBytes, limits.maximumObjects, limits.maximumDepth) = (4096, 256, 16)
        let parsed = try? Pickle.parse(bytes: bytes, limits: limits, name: "input.pkl")
        guard bytes.count <= limits.maximumBytes else {
            require(parsed == nil, "a \(bytes.count)-byte pickle accepted over the \(limits.maximumBytes)-byte limit")
            return
        }
        let stepped = stepByStep(bytes, limits: limits)
        require((parsed == nil) == (stepped == nil), "Pickle.parse and the step-by-step run disagree on acceptance")
        guard let graph = parsed, let stepped else { return }
        require(identical(graph, stepped), "Pickle.parse and the step-by-step run build different graphs")
        require((try? Pickle.parse(bytes: bytes, limits: limits)).map { identical(graph, $0) } == true, "a second parse differs")
        checkGraph(graph, limits: limits)
    }
}

/// Runs `bytes` through a `PickleMachine` one opcode at a time, checking the per-opcode bounds,
/// and lets the machine's own `run` execute the final STOP; the graph, or nil on an error.
func stepByStep(_ bytes: [UInt8], limits: PickleLimits) -> PickleGraph? {
    var machine = PickleMachine(input: bytes, limits: limits, name: "input.pkl")
    var failed = false
    while !failed && machine.position < bytes.count && bytes[machine.position] != UInt8(ascii: ".") {
        let before = (nodes: machine.graph.nodes.count, stack: machine.stack.count, memo: machine.memo.count)
        machine.opcodeStart = machine.position
        machine.position += 1
        failed = (try? machine.step(bytes[machine.opcodeStart])) == nil
        require(machine.graph.nodes.count <= before.nodes + 1 && machine.stack.count <= before.stack + 1 && machine.memo.count <= before.memo + 1,
                "opcode at byte \(machine.opcodeStart) adds more than one node, stack value or memo entry")
        require(machine.graph.nodes.count <= limits.maximumObjects && machine.stack.count <= limits.maximumObjects
                && machine.memo.count <= limits.maximumObjects, "opcode at byte \(machine.opcodeStart) exceeds maximumObjects")
    }
    require(machine.memo.keys.allSatisfy { (0...bytes.count).contains($0) }, "a memo index lies beyond the input")
    return failed ? nil : try? machine.run()
}

/// What an accepted graph promises (see the target's invariants).
func checkGraph(_ graph: PickleGraph, limits: PickleLimits) {
    let count = graph.nodes.count
    let children = graph.nodes.map { $0.children.compactMap { value -> Int? in if case let .node(index) = value { index } else { nil } } }
    require(children.allSatisfy { $0.allSatisfy { (0..<count).contains($0) } }, "a node refers past the graph's \(count) nodes")
    var reachable = [Bool](repeating: false, count: count)
    if case let .node(root) = graph.root {
        require((0..<count).contains(root), "the root refers past the graph")
        var pending = [root]
        reachable[root] = true
        while let node = pending.popLast() {
            for child in children[node] where !reachable[child] {
                reachable[child] = true
                pending.append(child)
            }
        }
    }
    let (depth, libraryReachable) = graph.nestingDepth()
    require(libraryReachable == reachable, "nestingDepth's reachable nodes differ from a graph search")
    require(depth <= limits.maximumDepth, "nesting depth \(depth) over the limit of \(limits.maximumDepth)")
    if case let .node(root) = graph.root, let longest = longestPath(from: root, children: children, reachable: reachable) {
        require(depth == longest, "nesting depth \(depth) of an acyclic graph whose longest path has \(longest) nodes")
    }

    for value in graph.nodes.flatMap(\.children) + [graph.root] {
        guard case let .global(module, name) = value else { continue }
        let package = module.split(separator: ".").first.map(String.init) ?? module
        require(!PickleMachine.refusedModules.contains(package)
                && !(["builtins", "__builtin__"].contains(module) && PickleMachine.refusedBuiltins.contains(name)),
                "refused global \(module).\(name) accepted")
    }
    for (index, node) in graph.nodes.enumerated() {
        switch node {
        case let .record(record):
            require(record.origin != .call || reachable[index], "the unreferenced call of \(record.typeName) accepted (an injected call)")
        case let .storage(storage):
            require(storage.byteCount >= 0 && storage.byteCount % ((storage.dtype?.bits ?? 8) / 8) == 0,
                    "storage '\(storage.key)' of \(storage.byteCount) bytes")
        case let .tensor(tensor):
            var elements = 1, valid = tensor.storageOffset >= 0 && tensor.shape.count == tensor.strides.count && tensor.strides.allSatisfy { $0 >= 0 }
            for size in tensor.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                (elements, valid) = (product, valid && !overflow && size >= 0)
            }
            require(valid && elements == tensor.elementCount && tensor.dtype.byteCount(elements: elements) != nil,
                    "tensor of shape \(tensor.shape), strides \(tensor.strides), offset \(tensor.storageOffset) accepted")
        default: break
        }
    }
}

/// The number of nodes on the longest path from `root` (Kahn's algorithm over the reachable
/// nodes), or nil when they hold a cycle.
func longestPath(from root: Int, children: [[Int]], reachable: [Bool]) -> Int? {
    var incoming = [Int](repeating: 0, count: children.count)
    for node in children.indices where reachable[node] { for child in children[node] { incoming[child] += 1 } }
    guard incoming[root] == 0 else { return nil }
    var length = [Int](repeating: 1, count: children.count)
    var ready = [root], visited = 0
    while let node = ready.popLast() {
        visited += 1
        for child in children[node] {
            length[child] = max(length[child], length[node] + 1)
            incoming[child] -= 1
            if incoming[child] == 0 { ready.append(child) }
        }
    }
    guard visited == reachable.filter({ $0 }).count else { return nil }
    return children.indices.filter { reachable[$0] }.map { length[$0] }.max()
}

/// Two graphs with the same nodes and root, value for value (floats by bit pattern, so that NaNs compare).
func identical(_ a: PickleGraph, _ b: PickleGraph) -> Bool {
    func same(_ x: [PickleValue], _ y: [PickleValue]) -> Bool { x.count == y.count && zip(x, y).allSatisfy(sameValue) }
    func sameValue(_ x: PickleValue, _ y: PickleValue) -> Bool {
        if case let .float(p) = x, case let .float(q) = y { return p.bitPattern == q.bitPattern }
        return x == y
    }
    guard a.nodes.count == b.nodes.count, sameValue(a.root, b.root) else { return false }
    return zip(a.nodes, b.nodes).allSatisfy { x, y in
        switch (x, y) {
        case let (.storage(p), .storage(q)): return p == q
        case let (.tensor(p), .tensor(q)): return p == q
        case let (.record(p), .record(q)):
            // Equal part sizes and equal concatenated children: equal type, arguments, state, items and elements.
            return p.origin == q.origin && p.arguments.count == q.arguments.count && (p.state == nil) == (q.state == nil)
                && p.items.count == q.items.count && same(x.children, y.children)
        default: return x.kind == y.kind && same(x.children, y.children)
        }
    }
}
