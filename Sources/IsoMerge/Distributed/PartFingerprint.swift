/// Everything the parts of one split merge must agree on, as named settings: the output's
/// metadata (tool version, method, parameters, α, precision, input paths as given), the output
/// dtype, the shard size, the number of parts, and every input file's name, size and
/// modification time (`FileStamp`). Each part records it (`PartRecord`); the finishing step
/// recomputes it from its own settings and names every setting a part differs in.
///
/// `hash` is FNV-1a (64 bits) of the settings in key order: a short name for them in messages,
/// not a security measure. Cost: one stat per input file.
public struct PartFingerprint: Equatable, Sendable {
    /// Setting name → value.
    public let settings: [String: String]

    public init(settings: [String: String]) {
        self.settings = settings
    }

    /// The fingerprint of a merge of `plan` writing `metadata`, with `outputDType` (nil: the
    /// base's), shards of at most `maximumShardBytes`, in `parts` parts.
    public init(plan: MergePlan, metadata: [String: String], outputDType: DType?, maximumShardBytes: Int, parts: Int) {
        var settings: [String: String] = [:]
        for (key, value) in metadata { settings["metadata " + key] = value }
        settings["output dtype"] = outputDType?.rawValue ?? "same as the base"
        settings["shard size"] = String(maximumShardBytes)
        settings["parts"] = String(parts)
        for (index, input) in ([plan.base] + plan.models).enumerated() {
            let role = index == 0 ? "base" : "model \(index)"
            settings["\(role) path"] = input.path
            for file in input.sourceFiles {
                let name = TemporaryName.split(file).name
                settings["\(role) file \(name)"] = FileStamp(path: file).map(\.description) ?? "missing"
            }
        }
        self.settings = settings
    }

    /// FNV-1a 64 of "key=value\n" for every setting in key order, as 16 hex digits.
    public var hash: String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for key in settings.keys.sorted() {
            for byte in (key + "=" + settings[key]! + "\n").utf8 {
                value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The settings in which `other` differs from this one, each as "name: this vs other".
    public func differences(from other: PartFingerprint) -> [String] {
        Set(settings.keys).union(other.settings.keys).sorted().compactMap { key in
            let (mine, theirs) = (settings[key], other.settings[key])
            guard mine != theirs else { return nil }
            return "\(key): \(mine ?? "(none)") here, \(theirs ?? "(none)") in the part"
        }
    }
}
