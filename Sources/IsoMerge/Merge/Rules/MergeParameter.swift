/// A hyper-parameter that a merge rule declares once; the command line's flag and help, the config
/// file's key, validation and its message, and the provenance recorded in the output are all
/// derived from this declaration.
///
/// The name is the flag's spelling without dashes (`common-fraction` → `--common-fraction`); the
/// config key replaces `-` with `_` (`common_fraction`); the output's metadata records the value
/// under `isomerge.<config key>` unless the declaration names another record.
public struct MergeParameter: Sendable, Hashable {
    /// What values the parameter takes.
    public enum Kind: Sendable, Hashable {
        /// A finite number in `range`.
        case number(NumberRange)
        /// An on/off switch, off by default (a flag without a value).
        case flag
        /// A list of strings.
        case strings
    }

    /// How the value appears in the output's metadata.
    public enum Record: Sendable, Hashable {
        /// `isomerge.<config key>` = the value (a number as Swift prints it, a list as a JSON array).
        case value
        /// For a flag: `isomerge.<key>` = `on` when set, `off` when not.
        case choice(key: String, on: String, off: String)
    }

    public let name: String
    public let kind: Kind
    public let defaultValue: MergeParameterValue
    /// What the parameter means, as a phrase: "the share of entries each task keeps".
    public let meaning: String
    /// A typical value for messages (`e.g. 0.2`), or nil.
    public let example: String?
    public let record: Record

    public init(name: String, kind: Kind, defaultValue: MergeParameterValue, meaning: String, example: String? = nil,
                record: Record = .value) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.example = example
        self.record = record
    }

    /// The command-line flag: `--name`.
    public var flag: String { "--" + name }
    /// The key in a JSON config: the name with `_` for `-`.
    public var configKey: String { name.replacingOccurrences(of: "-", with: "_") }

    /// `value` if it is of this parameter's kind and in its range; otherwise the problem, in words
    /// that say what to give instead.
    public func validate(_ value: MergeParameterValue) -> String? {
        switch (kind, value) {
        case let (.number(range), .number(x)):
            guard x.isFinite, range.contains(x) else {
                return "\(flag) must be in \(range) (\(meaning)\(example.map { ", e.g. " + $0 } ?? "")), not \(x)"
            }
            return nil
        case (.flag, .flag), (.strings, .strings): return nil
        default: return "\(flag) takes \(kind.noun), not \(value.noun)"
        }
    }

    /// The (key, value) this parameter adds to the output's metadata.
    func provenance(_ value: MergeParameterValue) -> (key: String, value: String) {
        switch (record, value) {
        case let (.choice(key, on, off), .flag(set)): return ("isomerge." + key, set ? on : off)
        default: return ("isomerge." + configKey, value.recorded)
        }
    }
}

/// A value of a `MergeParameter`.
public enum MergeParameterValue: Sendable, Hashable {
    case number(Double)
    case flag(Bool)
    case strings([String])

    /// How the output's metadata records it.
    var recorded: String {
        switch self {
        case let .number(x): return String(x)
        case let .flag(set): return String(set)
        case let .strings(items): return JSONValue.array(items.map { .string($0) }).serialized
        }
    }

    /// As a JSON config holds it.
    public var json: JSONValue {
        switch self {
        case let .number(x): return .number(String(x))
        case let .flag(set): return .bool(set)
        case let .strings(items): return .array(items.map { .string($0) })
        }
    }

    var noun: String {
        switch self {
        case .number: return "a number"
        case .flag: return "true or false"
        case .strings: return "a list of strings"
        }
    }
}

extension MergeParameter.Kind {
    var noun: String {
        switch self {
        case .number: return "a number"
        case .flag: return "no value (it is a switch)"
        case .strings: return "a list of strings"
        }
    }
}

/// An interval of the real line, each end open or closed, printed as mathematicians write it:
/// `(0, 1]`.
public struct NumberRange: Sendable, Hashable, CustomStringConvertible {
    public let lower: Double, upper: Double
    public let includesLower: Bool, includesUpper: Bool

    public init(lower: Double, includesLower: Bool, upper: Double, includesUpper: Bool) {
        (self.lower, self.includesLower, self.upper, self.includesUpper) = (lower, includesLower, upper, includesUpper)
    }

    /// [a, b]
    public static func closed(_ a: Double, _ b: Double) -> NumberRange {
        NumberRange(lower: a, includesLower: true, upper: b, includesUpper: true)
    }

    /// (a, b]
    public static func openClosed(_ a: Double, _ b: Double) -> NumberRange {
        NumberRange(lower: a, includesLower: false, upper: b, includesUpper: true)
    }

    public func contains(_ x: Double) -> Bool {
        (includesLower ? x >= lower : x > lower) && (includesUpper ? x <= upper : x < upper)
    }

    public var description: String {
        func bound(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
        return (includesLower ? "[" : "(") + bound(lower) + ", " + bound(upper) + (includesUpper ? "]" : ")")
    }
}

/// The validated values of a rule's declared parameters, every one present (given or default).
public struct MergeParameterValues: Sendable, Hashable {
    private var values: [String: MergeParameterValue]

    /// Each of `parameters` at its given value or its default; every given value is checked
    /// against its declaration, and a given name that is not declared is a problem too. Throws
    /// every problem at once.
    public init(_ parameters: [MergeParameter], given: [String: MergeParameterValue] = [:]) throws(MergeError) {
        var problems: [String] = []
        let known = Set(parameters.map(\.name))
        for name in given.keys.sorted() where !known.contains(name) {
            problems.append("--\(name) is not a parameter of this method (it has: "
                            + (parameters.isEmpty ? "none" : parameters.map(\.flag).joined(separator: ", ")) + ")")
        }
        var values: [String: MergeParameterValue] = [:]
        for parameter in parameters {
            let value = given[parameter.name] ?? parameter.defaultValue
            if let problem = parameter.validate(value) { problems.append(problem) }
            values[parameter.name] = value
        }
        if !problems.isEmpty { throw MergeError(problems) }
        self.values = values
    }

    public subscript(number parameter: MergeParameter) -> Double {
        guard case let .number(x)? = values[parameter.name] else { preconditionFailure("\(parameter.name) is not a declared number") }
        return x
    }

    public subscript(flag parameter: MergeParameter) -> Bool {
        guard case let .flag(set)? = values[parameter.name] else { preconditionFailure("\(parameter.name) is not a declared flag") }
        return set
    }

    public subscript(strings parameter: MergeParameter) -> [String] {
        guard case let .strings(items)? = values[parameter.name] else { preconditionFailure("\(parameter.name) is not a declared list") }
        return items
    }

    /// The value of the parameter called `name`, or nil.
    public subscript(name: String) -> MergeParameterValue? { values[name] }
}
