/// The paper's rule for choosing α (docs/ALGORITHMS.md): try the grid in order, keep the best score
/// (higher is better; the first of equal scores wins), stop after `patience` candidates in a row
/// without improvement.
public enum AlphaSelection {
    public static let patience = 3

    /// The best α and every (α, score) tried, in order.
    public static func search(grid: [Double], patience: Int = patience,
                              score: (Double) throws -> Double) rethrows -> (best: Double, score: Double, trials: [(alpha: Double, score: Double)]) {
        var trials: [(alpha: Double, score: Double)] = []
        var best: (alpha: Double, score: Double)?
        var sinceImprovement = 0
        for alpha in grid {
            let value = try score(alpha)
            trials.append((alpha, value))
            if let current = best, value <= current.score {
                sinceImprovement += 1
                if sinceImprovement >= patience { break }
            } else {
                best = (alpha, value)
                sinceImprovement = 0
            }
        }
        return (best?.alpha ?? .nan, best?.score ?? .nan, trials)
    }
}
