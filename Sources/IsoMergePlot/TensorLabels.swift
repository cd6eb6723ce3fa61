/// Short names a reader recognises for a model's tensors: the block index and the matrix kind
/// (`model.visual.transformer.resblocks.12.mlp.c_fc.weight` → `12.mlp.c_fc`), or for a tensor
/// outside the blocks its last component (`model.visual.positional_embedding` →
/// `positional_embedding`); a trailing `weight` component or `_weight` suffix is dropped. Where two
/// tensors would share a label, both take components from further in front until they differ.
public struct TensorLabels: Sendable {
    /// The block a tensor belongs to: its name up to its first numeric component, and that number.
    public struct Block: Equatable, Sendable {
        public let key: String
        public let index: Int
    }

    /// labels[i] names names[i].
    public let labels: [String]
    /// blocks[i] is names[i]'s block, nil for a tensor outside the numbered blocks.
    public let blocks: [Block?]

    public init(_ names: [String]) {
        let components: [[Substring]] = names.map { name in
            var parts = name.split(separator: ".")
            if parts.count > 1, parts.last == "weight" { parts.removeLast() }
            if let last = parts.last, last.hasSuffix("_weight"), last.count > 7 { parts[parts.count - 1] = last.dropLast(7) }
            return parts.isEmpty ? [Substring(name)] : parts
        }
        let numbered = components.map { $0.firstIndex { part in part.allSatisfy(\.isNumber) } }
        var starts = zip(components, numbered).map { $1 ?? $0.count - 1 }
        func label(_ i: Int) -> String { components[i][starts[i]...].joined(separator: ".") }
        while true {
            let counts = Dictionary(names.indices.map { (label($0), 1) }, uniquingKeysWith: +)
            let widen = names.indices.filter { counts[label($0)]! > 1 && starts[$0] > 0 }
            if widen.isEmpty { break }
            for i in widen { starts[i] -= 1 }
        }
        labels = names.indices.map(label)
        blocks = names.indices.map { i in
            numbered[i].map { Block(key: components[i][...$0].joined(separator: "."), index: Int(components[i][$0])!) }
        }
    }
}
