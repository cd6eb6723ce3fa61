/// Bounds for `Pickle.parse`. Work is linear in the input (every opcode pushes at most one value
/// and creates at most one node); memory is at most a few dozen bytes per stack value, memo entry
/// and node, each count capped by `maximumObjects`.
public struct PickleLimits: Sendable {
    /// The longest pickle accepted (a state dict's takes about 100 bytes per tensor, a pickled
    /// module's about 1 KB per module).
    public var maximumBytes = 64 << 20
    /// The most containers and records one pickle may create, and the most values its stack and
    /// its memo may each hold (a state dict needs about 10 of each per tensor).
    public var maximumObjects = 1 << 22
    /// The deepest nesting of containers accepted; deeper is refused as a recursion bomb. Also
    /// bounds every recursive walk over the graph.
    public var maximumDepth = 256

    public init() {}
}

/// A pickle reader that never executes anything: it interprets the opcodes of protocols 0–5 that
/// plain data and torch checkpoints use, and builds values only from an allow-list of globals
/// (see `PickleMachine.reduce`). Globals that could run code (`os`, `subprocess`, `builtins.eval`,
/// …: `PickleMachine.refusedModules`) are refused on sight; every other one is a name, never
/// imported: calling it yields an inert record (`PickleRecord.Origin.call`), which must end up
/// referenced from the result; instantiating it yields an opaque object.
public enum Pickle {
    /// Parses `bytes` into a graph. Throws, naming `name`, the byte offset and the opcode, for
    /// malformed input, a limit exceeded, or misuse of an allow-listed global.
    /// Cost: O(bytes.count) time and memory.
    public static func parse(bytes: [UInt8], limits: PickleLimits = PickleLimits(),
                             name: String = "<bytes>") throws(SafetensorsError) -> PickleGraph {
        guard bytes.count <= limits.maximumBytes else {
            throw SafetensorsError(file: name, "pickle is \(bytes.count) bytes, over the \(limits.maximumBytes)-byte limit")
        }
        var machine = PickleMachine(input: bytes, limits: limits, name: name)
        return try machine.run()
    }
}

/// The interpreter's state: input position, value stack, MARK positions, memo and the graph.
struct PickleMachine {
    let input: [UInt8]
    let limits: PickleLimits
    let name: String
    var position = 0
    var opcodeStart = 0
    var graph = PickleGraph()
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    init(input: [UInt8], limits: PickleLimits, name: String) {
        self.input = input
        self.limits = limits
        self.name = name
    }

    func fail(_ message: String) -> SafetensorsError {
        let opcode = opcodeStart < input.count ? Self.opcodeName(input[opcodeStart]) : "end"
        return SafetensorsError(file: name, "pickle byte \(opcodeStart) (\(opcode)): \(message)")
    }

    mutating func run() throws(SafetensorsError) -> PickleGraph {
        while true {
            opcodeStart = position
            guard position < input.count else { throw fail("pickle ends without STOP (truncated)") }
            let opcode = input[position]
            position += 1
            if opcode == UInt8(ascii: ".") {
                graph.root = try pop()
                let (depth, reachable) = graph.nestingDepth()
                guard depth <= limits.maximumDepth else {
                    throw fail("objects nest \(depth) levels deep, over the limit of \(limits.maximumDepth) (a recursion bomb?)")
                }
                for (index, node) in graph.nodes.enumerated() where !reachable[index] {
                    if case let .record(record) = node, record.origin == .call {
                        throw fail("calls \(record.typeName) and discards the result, as an injected call does (refused; nothing was executed)")
                    }
                }
                return graph
            }
            try step(opcode)
        }
    }

    // MARK: reading the input

    mutating func take(_ count: Int) throws(SafetensorsError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= input.count - position else {
            throw fail("needs \(count) more bytes but the pickle has \(input.count - position) left (truncated or corrupt)")
        }
        defer { position += count }
        return input[position..<position + count]
    }

    mutating func unsigned(_ width: Int) throws(SafetensorsError) -> Int {
        let bytes = try take(width)
        var value: UInt64 = 0
        for (shift, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        guard value <= UInt64(Int.max) else { throw fail("length \(value) is beyond any pickle") }
        return Int(value)
    }

    /// Text up to the next newline (protocol-0 arguments).
    mutating func line() throws(SafetensorsError) -> String {
        guard let end = input[position...].firstIndex(of: UInt8(ascii: "\n")) else { throw fail("text argument has no newline (truncated)") }
        defer { position = end + 1 }
        return String(decoding: input[position..<end], as: UTF8.self)
    }

    // MARK: the stack

    mutating func push(_ value: PickleValue) throws(SafetensorsError) {
        guard stack.count < limits.maximumObjects else { throw fail("holds more than \(limits.maximumObjects) values on its stack") }
        stack.append(value)
    }

    mutating func pop() throws(SafetensorsError) -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw fail("pops an empty stack (or below a MARK)") }
        return stack.removeLast()
    }

    func top() throws(SafetensorsError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw fail("needs a value but the stack is empty") }
        return value
    }

    /// The values above the most recent MARK, which is removed.
    mutating func popMark() throws(SafetensorsError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("needs a MARK but there is none") }
        defer { stack.removeLast(stack.count - mark) }
        return Array(stack[mark...])
    }

    mutating func newNode(_ node: PickleNode) throws(SafetensorsError) -> PickleValue {
        guard graph.nodes.count < limits.maximumObjects else { throw fail("creates more than \(limits.maximumObjects) objects") }
        graph.nodes.append(node)
        return .node(graph.nodes.count - 1)
    }

    // MARK: the memo

    mutating func put(_ index: Int) throws(SafetensorsError) {
        guard index <= input.count else {
            throw fail("memo index \(index) is beyond the pickle's \(input.count) bytes (a pickle memoizes at most one value per opcode)")
        }
        guard memo.count < limits.maximumObjects || memo[index] != nil else {
            throw fail("memoizes more than \(limits.maximumObjects) values")
        }
        memo[index] = try top()
    }

    /// PUT and GET's protocol-0 argument: a decimal index on its own line.
    mutating func textMemoIndex() throws(SafetensorsError) -> Int {
        let text = try line()
        guard let index = Int(text), index >= 0 else { throw fail("'\(text.prefix(40))' is not a memo index") }
        return index
    }

    mutating func get(_ index: Int) throws(SafetensorsError) {
        guard let value = memo[index] else { throw fail("memo index \(index) was never set") }
        try push(value)
    }

    // MARK: opcodes

    mutating func step(_ opcode: UInt8) throws(SafetensorsError) {
        switch opcode {
        case 0x80: // PROTO
            let version = try unsigned(1)
            guard version <= 5 else { throw fail("pickle protocol \(version) is newer than 5") }
        case 0x95: // FRAME: a length prefix for buffering; the opcodes follow unchanged.
            let length = try unsigned(8)
            guard length <= input.count - position else { throw fail("frame of \(length) bytes runs past the end (truncated)") }
        case UInt8(ascii: "("): marks.append(stack.count)
        case UInt8(ascii: "0"): // POP (a MARK on top is popped instead, as CPython does)
            if stack.count > (marks.last ?? 0) {
                stack.removeLast()
            } else if marks.isEmpty {
                throw fail("pops an empty stack")
            } else {
                _ = try popMark()
            }
        case UInt8(ascii: "1"): _ = try popMark()
        case UInt8(ascii: "2"): try push(try top())
        case UInt8(ascii: "N"): try push(.none)
        case 0x88: try push(.bool(true))
        case 0x89: try push(.bool(false))
        case UInt8(ascii: "J"): try push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))
        case UInt8(ascii: "K"): try push(.int(try unsigned(1)))
        case UInt8(ascii: "M"): try push(.int(try unsigned(2)))
        case 0x8A: try push(try long(byteCount: try unsigned(1)))
        case 0x8B:
            let count = Int(Int32(truncatingIfNeeded: try unsigned(4)))
            guard count >= 0 else { throw fail("negative length \(count)") }
            try push(try long(byteCount: count))
        case UInt8(ascii: "I"):
            let text = try line()
            if text == "00" || text == "01" {
                try push(.bool(text == "01"))
            } else {
                guard let value = Int(text) else { throw fail("'\(text.prefix(40))' is not a 64-bit integer") }
                try push(.int(value))
            }
        case UInt8(ascii: "L"):
            let text = try line()
            guard let value = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) else {
                throw fail("'\(text.prefix(40))' is not a 64-bit integer")
            }
            try push(.int(value))
        case UInt8(ascii: "F"):
            let text = try line()
            guard let value = Double(text) else { throw fail("'\(text.prefix(40))' is not a float") }
            try push(.float(value))
        case UInt8(ascii: "G"):
            let bytes = try take(8)
            try push(.float(Double(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
        case UInt8(ascii: "X"): try push(.string(try text(byteCount: try unsigned(4))))
        case 0x8C: try push(.string(try text(byteCount: try unsigned(1))))
        case 0x8D: try push(.string(try text(byteCount: try unsigned(8))))
        case UInt8(ascii: "T"): try push(.string(try text(byteCount: try unsigned(4))))
        case UInt8(ascii: "U"): try push(.string(try text(byteCount: try unsigned(1))))
        case UInt8(ascii: "B"): try push(.bytes(Array(try take(try unsigned(4)))))
        case UInt8(ascii: "C"): try push(.bytes(Array(try take(try unsigned(1)))))
        case 0x8E, 0x96: try push(.bytes(Array(try take(try unsigned(8)))))
        case UInt8(ascii: ")"): try push(try newNode(.tuple([])))
        case UInt8(ascii: "t"): try push(try newNode(.tuple(try popMark())))
        case 0x85, 0x86, 0x87:
            var items: [PickleValue] = []
            for _ in 0..<Int(opcode - 0x84) { items.insert(try pop(), at: 0) }
            try push(try newNode(.tuple(items)))
        case UInt8(ascii: "]"): try push(try newNode(.list([])))
        case UInt8(ascii: "l"): try push(try newNode(.list(try popMark())))
        case UInt8(ascii: "a"):
            let value = try pop()
            try append([value], to: try top())
        case UInt8(ascii: "e"):
            let values = try popMark()
            try append(values, to: try top())
        case UInt8(ascii: "}"): try push(try newNode(.dict(entries: [], index: [:])))
        case UInt8(ascii: "d"):
            let items = try popMark()
            let dict = try newNode(.dict(entries: [], index: [:]))
            try setItems(items, in: dict)
            try push(dict)
        case UInt8(ascii: "s"):
            let value = try pop()
            let key = try pop()
            try setItems([key, value], in: try top())
        case UInt8(ascii: "u"):
            let items = try popMark()
            try setItems(items, in: try top())
        case 0x8F: try push(try newNode(.set([])))
        case 0x90:
            let items = try popMark()
            try addItems(items, to: try top())
        case 0x91: try push(try newNode(.set(try popMark())))
        case UInt8(ascii: "c"):
            let module = try line()
            try push(try global(module: module, name: try line()))
        case 0x93:
            let name = try pop()
            let module = try pop()
            guard case let .string(moduleName) = module, case let .string(globalName) = name else {
                throw fail("module and name must be strings, not \(module.describe(in: graph)) and \(name.describe(in: graph))")
            }
            try push(try global(module: moduleName, name: globalName))
        case UInt8(ascii: "R"):
            let arguments = try pop()
            let callable = try pop()
            try push(try reduce(callable, arguments: try tupleItems(arguments, of: "REDUCE's arguments")))
        case 0x81:
            let arguments = try pop()
            let type = try pop()
            try push(try newNode(.record(PickleRecord(origin: .instance, type: type,
                                                  arguments: try tupleItems(arguments, of: "NEWOBJ's arguments")))))
        case 0x92:
            _ = try pop()
            let arguments = try pop()
            let type = try pop()
            try push(try newNode(.record(PickleRecord(origin: .instance, type: type,
                                                  arguments: try tupleItems(arguments, of: "NEWOBJ_EX's arguments")))))
        case UInt8(ascii: "i"):
            let module = try line()
            let type = try global(module: module, name: try line())
            try push(try newNode(.record(PickleRecord(origin: .instance, type: type, arguments: try popMark()))))
        case UInt8(ascii: "o"):
            let items = try popMark()
            guard let type = items.first else { throw fail("OBJ needs a class after its MARK") }
            try push(try newNode(.record(PickleRecord(origin: .instance, type: type, arguments: Array(items.dropFirst())))))
        case UInt8(ascii: "b"):
            let state = try pop()
            try build(try top(), state: state)
        case UInt8(ascii: "p"): try put(try textMemoIndex())
        case UInt8(ascii: "q"): try put(try unsigned(1))
        case UInt8(ascii: "r"): try put(try unsigned(4))
        case 0x94: try put(memo.count)
        case UInt8(ascii: "g"): try get(try textMemoIndex())
        case UInt8(ascii: "h"): try get(try unsigned(1))
        case UInt8(ascii: "j"): try get(try unsigned(4))
        case UInt8(ascii: "Q"): try push(try persistentLoad(try pop()))
        case UInt8(ascii: "P"): throw fail("text persistent ids are not torch storages (torch.save writes BINPERSID)")
        case 0x82, 0x83, 0x84: throw fail("the extension registry (copyreg) is not available; no torch checkpoint uses it")
        case 0x97, 0x98: throw fail("out-of-band buffers (protocol 5) are not part of a torch checkpoint")
        case UInt8(ascii: "S"), UInt8(ascii: "V"):
            throw fail("protocol-0 quoted strings are not read (torch.save writes binary protocols)")
        default:
            throw fail("unknown opcode 0x\(String(opcode, radix: 16)) (not a pickle, or corrupt)")
        }
    }

    mutating func text(byteCount: Int) throws(SafetensorsError) -> String {
        String(decoding: try take(byteCount), as: UTF8.self)
    }

    /// LONG1/LONG4: little-endian two's complement; an Int when it fits in 64 bits.
    mutating func long(byteCount: Int) throws(SafetensorsError) -> PickleValue {
        let bytes = Array(try take(byteCount))
        guard let last = bytes.last else { return .int(0) }
        let sign: UInt8 = last & 0x80 == 0 ? 0 : 0xFF
        guard bytes.count <= 8 || bytes[8...].allSatisfy({ $0 == sign }) && (bytes[7] & 0x80 == sign & 0x80) else {
            return .bigInteger(bytes)
        }
        var value: UInt64 = sign == 0 ? 0 : ~0
        for (shift, byte) in bytes.prefix(8).enumerated() {
            value &= ~(0xFF << (8 * UInt64(shift)))
            value |= UInt64(byte) << (8 * UInt64(shift))
        }
        return .int(Int(bitPattern: UInt(value)))
    }

    /// The items of a tuple node (REDUCE and NEWOBJ take their arguments as one).
    func tupleItems(_ value: PickleValue, of what: String) throws(SafetensorsError) -> [PickleValue] {
        guard case let .tuple(items)? = graph.node(value) else { throw fail("\(what) must be a tuple, not \(value.describe(in: graph))") }
        return items
    }

    // MARK: mutation of nodes (taken out of the graph while changed, so that arrays grow in place)

    mutating func append(_ values: [PickleValue], to target: PickleValue) throws(SafetensorsError) {
        guard case let .node(index) = target else { throw fail("appends to \(target.describe(in: graph)), not a list") }
        switch graph.nodes[index] {
        case var .list(items):
            graph.nodes[index] = .tuple([])
            items += values
            graph.nodes[index] = .list(items)
        case var .record(record):
            graph.nodes[index] = .tuple([])
            record.elements += values
            graph.nodes[index] = .record(record)
        default: throw fail("appends to a \(graph.nodes[index].kind), not a list")
        }
    }

    mutating func setItems(_ flat: [PickleValue], in target: PickleValue) throws(SafetensorsError) {
        guard flat.count % 2 == 0 else { throw fail("sets \(flat.count) values, not key–value pairs") }
        guard case let .node(index) = target else { throw fail("sets items on \(target.describe(in: graph)), not a dict") }
        switch graph.nodes[index] {
        case .dict(var entries, var keys):
            graph.nodes[index] = .tuple([])
            for pair in stride(from: 0, to: flat.count, by: 2) {
                if let key = PickleKey(flat[pair]), let existing = keys[key] {
                    entries[existing].value = flat[pair + 1]
                } else {
                    if let key = PickleKey(flat[pair]) { keys[key] = entries.count }
                    entries.append((flat[pair], flat[pair + 1]))
                }
            }
            graph.nodes[index] = .dict(entries: entries, index: keys)
        case var .record(record):
            graph.nodes[index] = .tuple([])
            for pair in stride(from: 0, to: flat.count, by: 2) { record.items.append((flat[pair], flat[pair + 1])) }
            graph.nodes[index] = .record(record)
        default: throw fail("sets items on a \(graph.nodes[index].kind), not a dict")
        }
    }

    mutating func addItems(_ values: [PickleValue], to target: PickleValue) throws(SafetensorsError) {
        guard case let .node(index) = target, case var .set(items) = graph.nodes[index] else {
            throw fail("adds items to \(target.describe(in: graph)), not a set")
        }
        graph.nodes[index] = .tuple([])
        items += values
        graph.nodes[index] = .set(items)
    }

    /// BUILD: an opaque object keeps its state; a dict's instance attributes (a state dict's
    /// `_metadata`) and a tensor's Python attributes carry no tensor data and are dropped.
    mutating func build(_ target: PickleValue, state: PickleValue) throws(SafetensorsError) {
        guard case let .node(index) = target else { throw fail("sets the state of \(target.describe(in: graph))") }
        switch graph.nodes[index] {
        case var .record(record):
            record.state = state
            graph.nodes[index] = .record(record)
        case .dict, .tensor: break
        default: throw fail("sets the state of a \(graph.nodes[index].kind)")
        }
    }
}

extension PickleMachine {
    static func opcodeName(_ opcode: UInt8) -> String {
        let names: [UInt8: String] = [
            0x80: "PROTO", 0x95: "FRAME", 0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x4E: "NONE",
            0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x4A: "BININT", 0x4B: "BININT1", 0x4D: "BININT2", 0x8A: "LONG1", 0x8B: "LONG4",
            0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x47: "BINFLOAT", 0x58: "BINUNICODE", 0x8C: "SHORT_BINUNICODE",
            0x8D: "BINUNICODE8", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
            0x8E: "BINBYTES8", 0x96: "BYTEARRAY8", 0x29: "EMPTY_TUPLE", 0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2",
            0x87: "TUPLE3", 0x5D: "EMPTY_LIST", 0x6C: "LIST", 0x61: "APPEND", 0x65: "APPENDS", 0x7D: "EMPTY_DICT", 0x64: "DICT",
            0x73: "SETITEM", 0x75: "SETITEMS", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x63: "GLOBAL",
            0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x69: "INST", 0x6F: "OBJ", 0x62: "BUILD",
            0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x67: "GET", 0x68: "BINGET", 0x6A: "LONG_BINGET",
            0x51: "BINPERSID", 0x50: "PERSID", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x97: "NEXT_BUFFER",
            0x98: "READONLY_BUFFER", 0x53: "STRING", 0x56: "UNICODE",
        ]
        return names[opcode] ?? "0x" + String(opcode, radix: 16)
    }
}
