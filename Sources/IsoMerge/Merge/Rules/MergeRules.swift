/// The registry of merge methods: what the command line offers, config files name and
/// reports record. `standard` holds the methods of docs/ALGORITHMS.md; `adding(_:)` makes a
/// registry with one more (a method of your own, or the tests' toy method).
public struct MergeRules: Sendable {
    /// The registered rules, in the order help and listings show them.
    public let all: [any MergeRule.Type]

    /// The paper's methods and its baselines.
    public static let standard = MergeRules([
        Average.self,
        TaskArithmetic.self,
        TIES.self,
        TSVM.self,
        IsoC.self,
        IsoCTS.self,
    ])

    public init(_ rules: [any MergeRule.Type]) {
        precondition(Set(rules.map { $0.name }).count == rules.count, "two merge rules share a name")
        all = rules
    }

    /// This registry with `rule` appended.
    public func adding(_ rule: any MergeRule.Type) -> MergeRules { MergeRules(all + [rule]) }

    /// The canonical names, in registry order.
    public var names: [String] { all.map { $0.name } }

    /// The rule called `name`: canonical or with dashes for underscores (`iso-cts`), any case.
    public func rule(named name: String) -> (any MergeRule.Type)? {
        let canonical = name.lowercased().replacingOccurrences(of: "-", with: "_")
        return all.first { $0.name == canonical }
    }

    /// Every parameter some rule declares (the first declaration of each name), with the rules
    /// that declare it.
    public var parameters: [(parameter: MergeParameter, rules: [String])] {
        var result: [(parameter: MergeParameter, rules: [String])] = []
        for rule in all {
            for parameter in rule.parameters {
                if let index = result.firstIndex(where: { $0.parameter.name == parameter.name }) {
                    result[index].rules.append(rule.name)
                } else {
                    result.append((parameter, [rule.name]))
                }
            }
        }
        return result
    }

    /// The rule called `name` with the given parameter values (defaults for the rest); unknown
    /// names and invalid values are errors that say what is accepted. With `ignoringUndeclared`,
    /// values of parameters the rule does not declare are left out instead (a setting shared by
    /// several methods).
    public func make(_ name: String, given: [String: MergeParameterValue] = [:],
                     ignoringUndeclared: Bool = false) throws(MergeError) -> any MergeRule {
        guard let rule = rule(named: name) else {
            throw MergeError("unknown method '\(name)' (choose \(Self.list(names)))")
        }
        let declared = Set(rule.parameters.map(\.name))
        return try rule.init(given: ignoringUndeclared ? given.filter { declared.contains($0.key) } : given)
    }

    /// "a, b or c".
    public static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }
}
