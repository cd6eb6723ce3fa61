import Linalg

/// Every test input is reproducible from a seed.
public typealias SeededGenerator = SplitMix64

extension Matrix {
    /// Entries uniform in [-1, 1].
    public static func random(rows: Int, columns: Int, using generator: inout SeededGenerator) -> Matrix {
        Matrix(rows: rows, columns: columns) { _, _ in Scalar(Double.random(in: -1...1, using: &generator)) }
    }
}
