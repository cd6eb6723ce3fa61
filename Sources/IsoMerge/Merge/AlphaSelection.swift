/// The paper's rule for choosing α (docs/ALGORITHMS.md), honest at the grid's edges: try the grid in
/// order, keep the best score (higher is better; the first of equal scores wins), stop after
/// `patience` candidates in a row without improvement. An optimum is only reported as found when
/// that early stop has fired on its far side and the grid did not begin at it:
/// - when the grid ends before the stop has fired, it is extended upward with the same step until
///   the stop fires (at most `maximumExtension` more candidates);
/// - when the best candidate is the grid's first, it is extended downward with the same step until
///   `patience` candidates below the best have not improved on it, while α stays positive (at most
///   `maximumExtension` more).
/// Whatever could not be settled within those bounds is said in `notes` and `mayLieOutside`.
public enum AlphaSelection {
    public static let patience = 3
    /// The most candidates added on either side of the grid.
    public static let maximumExtension = 30

    /// The outcome of a search.
    public struct Result: Sendable {
        public var best: Double
        public var score: Double
        /// Every (α, score) tried, in the order tried.
        public var trials: [(alpha: Double, score: Double)]
        /// Whether the early stop fired above the best α.
        public var stoppedEarly: Bool
        /// Candidates added below and above the grid.
        public var extendedBelow = 0, extendedAbove = 0
        /// Whether the best α may lie outside what was tried.
        public var mayLieOutside = false
        /// What the search did beyond the grid, and what it could not settle, in words.
        public var notes: [String] = []
    }

    /// Searches `grid` (ascending, evenly spaced when it has two values or more) with `score`.
    public static func search(grid: [Double], patience: Int = patience, maximumExtension: Int = maximumExtension,
                              score: (Double) throws -> Double) rethrows -> Result {
        var result = Result(best: .nan, score: -.infinity, trials: [], stoppedEarly: false)
        var sinceImprovement = 0
        func attempt(_ alpha: Double) throws {
            let value = try score(alpha)
            result.trials.append((alpha, value))
            if result.trials.count == 1 || value > result.score {
                (result.best, result.score, sinceImprovement) = (alpha, value, 0)
            } else {
                sinceImprovement += 1
            }
        }
        for alpha in grid {
            try attempt(alpha)
            if sinceImprovement >= patience { break }
        }
        result.stoppedEarly = sinceImprovement >= patience
        guard grid.count >= 2, let first = grid.first else {
            if result.trials.isEmpty { result.score = .nan }
            return result
        }
        let step = grid[1] - first
        /// The k-th value of the grid continued both ways, rounded as the grid itself is.
        func continued(_ k: Int) -> Double { ((first + Double(k) * step) * 1e10).rounded() / 1e10 }
        if !result.stoppedEarly {
            var k = grid.count
            while !result.stoppedEarly && result.extendedAbove < maximumExtension {
                try attempt(continued(k))
                k += 1
                result.extendedAbove += 1
                result.stoppedEarly = sinceImprovement >= patience
            }
            let last = continued(k - 1)
            result.notes.append("the grid ended before \(patience) candidates without improvement: extended upward by "
                                + "\(result.extendedAbove) candidate(s) of step \(step), to α = \(last)")
            if !result.stoppedEarly {
                result.mayLieOutside = true
                result.notes.append("the score still improved within \(patience) candidates of α = \(last): the optimum may lie above")
            }
        }
        if result.best == first {
            var k = -1, sinceBelow = 0, lowest = first
            while sinceBelow < patience && result.extendedBelow < maximumExtension {
                let alpha = continued(k)
                guard alpha > 0 else {
                    if result.best == lowest {
                        result.mayLieOutside = true
                        result.notes.append("the best α, \(result.best), is the smallest positive value of the grid's step: "
                                            + "the optimum may lie below it")
                    }
                    break
                }
                let previousBest = result.best
                try attempt(alpha)
                lowest = alpha
                sinceBelow = result.best == previousBest ? sinceBelow + 1 : 0
                result.extendedBelow += 1
                k -= 1
            }
            if result.extendedBelow > 0 {
                result.notes.insert("the best candidate was the grid's first: extended downward by \(result.extendedBelow) "
                                    + "candidate(s) of step \(step), to α = \(lowest)", at: 0)
            }
            if sinceBelow < patience && result.extendedBelow >= maximumExtension {
                result.mayLieOutside = true
                result.notes.append("the score still improved within \(patience) candidates of α = \(lowest): "
                                    + "the optimum may lie below")
            }
        }
        return result
    }
}
