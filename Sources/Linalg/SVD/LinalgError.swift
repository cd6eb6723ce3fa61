/// Failures of Linalg's iterative algorithms and input checks.
public enum LinalgError: Error, CustomStringConvertible, Equatable {
    /// The input holds NaN or ±∞ (the row and column of the first one).
    case nonFiniteInput(row: Int, column: Int)
    /// An iteration reached its cap without converging.
    case noConvergence(algorithm: String, iterations: Int)

    /// A one-line explanation, e.g. for an error message.
    public var description: String {
        switch self {
        case let .nonFiniteInput(row, column):
            return "matrix contains NaN or infinity (first at row \(row), column \(column))"
        case let .noConvergence(algorithm, iterations):
            return "\(algorithm) did not converge within \(iterations) iterations"
        }
    }
}
