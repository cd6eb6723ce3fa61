/// The allow-list: the only globals whose calls the pickle reader evaluates, each implemented
/// here on plain data (nothing is imported, nothing runs). Any other callable yields an inert
/// `PickleRecord` of origin `.call`; misuse of an allow-listed one (wrong argument types, a tensor
/// without a storage) is an error naming it.
extension PickleMachine {
    /// Modules whose globals run code, touch files or load more pickles: referring to one at all
    /// is refused, even though nothing would be called (no checkpoint needs them).
    static let refusedModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "importlib", "runpy", "pickle", "_pickle",
        "marshal", "ctypes", "webbrowser", "code", "commands", "platform", "multiprocessing", "asyncio", "threading",
    ]
    /// Builtins that evaluate code or reach attributes by name.
    static let refusedBuiltins: Set<String> = [
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals", "vars",
        "breakpoint", "input", "exit", "quit", "help",
    ]

    /// `module.name` as a value, unless it is one of the refused globals.
    func global(module: String, name: String) throws(SafetensorsError) -> PickleValue {
        let root = module.split(separator: ".").first.map(String.init) ?? module
        if Self.refusedModules.contains(root) || (["builtins", "__builtin__"].contains(module) && Self.refusedBuiltins.contains(name)) {
            throw fail("refers to \(module).\(name), which can run code and which no checkpoint needs (refused; nothing was executed)")
        }
        return .global(module: module, name: name)
    }

    /// `callable(*arguments)` for REDUCE.
    mutating func reduce(_ callable: PickleValue, arguments: [PickleValue]) throws(SafetensorsError) -> PickleValue {
        guard case let .global(module, name) = callable else {
            return try newNode(.record(PickleRecord(origin: .call, type: callable, arguments: arguments)))
        }
        func misuse(_ problem: String) -> SafetensorsError { fail("\(module).\(name): \(problem)") }
        switch (module, name) {
        case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"):
            let dict = try newNode(.dict(entries: [], index: [:]))
            guard let pairs = arguments.first else { return dict }
            guard arguments.count == 1, let items = sequenceItems(pairs) else { throw misuse("expects one list of (key, value) pairs") }
            var flat: [PickleValue] = []
            for item in items {
                guard case let .tuple(pair)? = graph.node(item), pair.count == 2 else { throw misuse("expects (key, value) pairs") }
                flat += pair
            }
            try setItems(flat, in: dict)
            return dict
        case ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("__builtin__", "frozenset"):
            guard let source = arguments.first else { return try newNode(.set([])) }
            guard arguments.count == 1, let items = sequenceItems(source) else { throw misuse("expects one list") }
            return try newNode(.set(items))
        case ("torch", "Size"):
            guard arguments.count == 1, let items = sequenceItems(arguments[0]) else { throw misuse("expects one tuple of sizes") }
            return try newNode(.tuple(items))
        case ("torch", "device"):
            // Where a module was (`cpu`, `cuda:0`): kept as its text.
            switch (arguments.first, arguments.dropFirst().first) {
            case let (.string(type)?, nil): return .string(type)
            case let (.string(type)?, .int(index)?): return .string("\(type):\(index)")
            default: throw misuse("expects a device type and an optional index")
            }
        case ("_codecs", "encode"):
            // Protocol 2 writes Python 3 bytes as encode(latin-1 text, 'latin1').
            guard arguments.count == 2, case let .string(text) = arguments[0], case let .string(encoding) = arguments[1],
                  ["latin1", "latin-1"].contains(encoding.lowercased()) else {
                throw misuse("only encode(text, 'latin1') is interpreted")
            }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw misuse("text is not latin-1") }
                bytes.append(UInt8(scalar.value))
            }
            return .bytes(bytes)
        case ("copyreg", "_reconstructor"):
            // Protocol 0/1 object creation: base.__new__(cls); the attributes follow by BUILD.
            guard let type = arguments.first else { throw misuse("expects (class, base, state)") }
            return try newNode(.record(PickleRecord(origin: .instance, type: type, arguments: [])))
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor_v3"):
            return try rebuildTensor(arguments, function: "\(module).\(name)")
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard arguments.count == (name == "_rebuild_parameter" ? 3 : 4), case .tensor? = graph.node(arguments[0]) else {
                throw misuse("expects (tensor, requires_grad, hooks\(name == "_rebuild_parameter" ? "" : ", state"))")
            }
            return arguments[0]
        case ("torch._tensor", "_rebuild_from_type_v2"):
            // A tensor carrying Python attributes: (rebuild function, type, its arguments, state).
            guard arguments.count == 4, case let .global(functionModule, functionName) = arguments[0],
                  functionModule == "torch._utils", functionName.hasPrefix("_rebuild_tensor_v") else {
                throw misuse("expects a torch._utils._rebuild_tensor_v2/v3 call")
            }
            let tensorTypes = ["torch.Tensor", "torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer"]
            guard case let .global(typeModule, typeName) = arguments[1], tensorTypes.contains("\(typeModule).\(typeName)") else {
                throw misuse("rebuilds a \(arguments[1].describe(in: graph)), not a plain tensor or parameter")
            }
            return try reduce(arguments[0], arguments: try tupleItems(arguments[2], of: "\(module).\(name)'s arguments"))
        default:
            return try newNode(.record(PickleRecord(origin: .call, type: callable, arguments: arguments)))
        }
    }

    /// The items of a list or tuple node, or nil.
    func sequenceItems(_ value: PickleValue) -> [PickleValue]? {
        switch graph.node(value) {
        case let .list(items)?, let .tuple(items)?: return items
        default: return nil
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`, or
    /// v3 with the dtype after the hooks. Metadata must be empty: a set flag (`neg`, `conj`) would
    /// change the values, which a byte copy cannot honour.
    mutating func rebuildTensor(_ arguments: [PickleValue], function: String) throws(SafetensorsError) -> PickleValue {
        func misuse(_ problem: String) -> SafetensorsError { fail("\(function): \(problem)") }
        let explicitDType = function.hasSuffix("v3")
        let fixed = explicitDType ? 7 : 6
        guard arguments.count == fixed || arguments.count == fixed + 1 else {
            throw misuse("expects \(fixed) or \(fixed + 1) arguments, not \(arguments.count)")
        }
        guard case let .storage(storage)? = graph.node(arguments[0]) else {
            throw misuse("first argument is \(arguments[0].describe(in: graph)), not a storage")
        }
        guard case let .int(offset) = arguments[1] else { throw misuse("storage offset is \(arguments[1].describe(in: graph))") }
        let shape = try integers(arguments[2], what: "size", misuse: misuse)
        let strides = try integers(arguments[3], what: "stride", misuse: misuse)
        if arguments.count == fixed + 1, let entries = graph.dictEntries(arguments[fixed]), !entries.isEmpty {
            let flags = entries.map { "\($0.key.describe(in: graph))" }.joined(separator: ", ")
            throw misuse("tensor metadata (\(flags)) marks a lazily transformed view, which is not read")
        }
        var dtype = storage.dtype
        if explicitDType {
            guard case let .global("torch", dtypeName) = arguments[6] else {
                throw misuse("dtype is \(arguments[6].describe(in: graph)), not a torch dtype")
            }
            guard let named = TorchTypes.dtype(named: dtypeName) else { throw misuse("dtype torch.\(dtypeName) has no safetensors equivalent") }
            dtype = named
        }
        guard let dtype else { throw misuse("an untyped storage needs a dtype (torch._utils._rebuild_tensor_v3)") }
        guard let tensor = TorchTensorReference(storage: storage, dtype: dtype, storageOffset: offset, shape: shape, strides: strides) else {
            throw misuse("offset \(offset), size \(shape) and stride \(strides) are not a valid layout (negative, mismatched or overflowing)")
        }
        return try newNode(.tensor(tensor))
    }

    func integers(_ value: PickleValue, what: String, misuse: (String) -> SafetensorsError) throws(SafetensorsError) -> [Int] {
        guard let items = sequenceItems(value) else { throw misuse("\(what) is \(value.describe(in: graph)), not a tuple") }
        var result: [Int] = []
        for item in items {
            guard case let .int(number) = item else { throw misuse("\(what) holds \(item.describe(in: graph)), not an integer") }
            result.append(number)
        }
        return result
    }

    /// BINPERSID: `('storage', torch.<T>Storage, key, location, numel)`, the form torch.save writes.
    mutating func persistentLoad(_ id: PickleValue) throws(SafetensorsError) -> PickleValue {
        guard case let .tuple(fields)? = graph.node(id), fields.count == 5, fields[0] == .string("storage") else {
            throw fail("persistent id is \(id.describe(in: graph)), not ('storage', type, key, location, numel)")
        }
        guard case let .global(module, typeName) = fields[1], module == "torch" || module == "torch.storage",
              let dtype = TorchTypes.storageDType(typeName) else {
            throw fail("storage type \(fields[1].describe(in: graph)) has no safetensors equivalent")
        }
        guard case let .string(key) = fields[2] else { throw fail("storage key is \(fields[2].describe(in: graph)), not a string") }
        guard case let .int(count) = fields[4], count >= 0 else {
            throw fail("storage '\(key)' size is \(fields[4].describe(in: graph)), not a count")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: (dtype?.bits ?? 8) / 8)
        guard !overflow else { throw fail("storage '\(key)' of \(count) elements overflows") }
        return try newNode(.storage(TorchStorageReference(key: key, dtype: dtype, byteCount: bytes)))
    }
}
