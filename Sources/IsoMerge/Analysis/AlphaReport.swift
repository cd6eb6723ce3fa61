import Foundation

/// The scores of one α search for one method: the file `isomerge merge --search-report` and
/// `isomerge demo` write and `isomerge analyze --alpha-report` plots; any other search can write it by
/// hand. Format (JSON, scores in the order tried, higher is better):
/// {"method": "iso_c", "scores": [{"alpha": 0.1, "score": 0.71}, {"alpha": 0.2, "score": 0.74}]}; a report
/// of IsoMerge's own search adds "best_alpha", "best_score", "early_stop_fired", "extended_below",
/// "extended_above", "optimum_may_lie_outside" and "notes" (`AlphaSelection.Result`), which readers ignore.
public struct AlphaReport: Sendable {
    /// The method's canonical name.
    public let method: String
    public let scores: [(alpha: Double, score: Double)]
    /// The search's outcome, when the report comes from `AlphaSelection`.
    public let search: AlphaSelection.Result?

    public init(method: String, scores: [(alpha: Double, score: Double)]) {
        self.method = method
        self.scores = scores
        search = nil
    }

    public init(method: String, search: AlphaSelection.Result) {
        self.method = method
        scores = search.trials
        self.search = search
    }

    /// The largest report read: far above any grid's (a few KiB).
    public static let maximumFileBytes = 64 << 20

    /// Reads a report whose method is one of `rules`; errors name the file and what is wrong in it.
    public init(contentsOf path: String, rules: MergeRules = .standard) throws {
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(path, limit: Self.maximumFileBytes)
        } catch {
            throw MergeError("\(path): cannot read the α report: \(error.message)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw MergeError("\(path): not a JSON α report: \(error)")
        }
        guard case let .string(name)? = document["method"], let rule = rules.rule(named: name) else {
            throw MergeError("\(path): \"method\" must name a merge method (\(rules.names.joined(separator: ", ")))")
        }
        guard case let .array(items)? = document["scores"], !items.isEmpty else {
            throw MergeError("\(path): \"scores\" must be a non-empty list of {\"alpha\": A, \"score\": S}")
        }
        method = rule.name
        search = nil
        scores = try items.enumerated().map { index, item in
            guard let alpha = item["alpha"]?.double, let score = item["score"]?.double, alpha.isFinite, score.isFinite else {
                throw MergeError("\(path): scores[\(index)] needs finite numbers \"alpha\" and \"score\"")
            }
            return (alpha, score)
        }
    }

    /// The α with the highest score (the first of equal scores); nil for no scores.
    public var best: (alpha: Double, score: Double)? {
        scores.reduce(nil) { best, trial in best.map { trial.score > $0.score ? trial : $0 } ?? trial }
    }

    /// The JSON document, one line.
    public var json: String {
        var members: [(key: String, value: JSONValue)] = [
            ("method", .string(method)),
            ("scores", .array(scores.map { .object([("alpha", .number(String($0.alpha))), ("score", .number(String($0.score)))]) })),
        ]
        if let search {
            members += [("best_alpha", .number(String(search.best))), ("best_score", .number(String(search.score))),
                        ("early_stop_fired", .bool(search.stoppedEarly)),
                        ("extended_below", .number(String(search.extendedBelow))),
                        ("extended_above", .number(String(search.extendedAbove))),
                        ("optimum_may_lie_outside", .bool(search.mayLieOutside)),
                        ("notes", .array(search.notes.map { .string($0) }))]
        }
        return JSONValue.object(members).serialized
    }
}
