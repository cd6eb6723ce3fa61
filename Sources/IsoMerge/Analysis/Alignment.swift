import Linalg

/// The paper's diagnostic (docs/ALGORITHMS.md): the subspace alignment ratio
/// SAR(τ_t, τ_M) = ‖Π·τ_t‖_F / ‖τ_t‖_F, with Π = U_k·U_kᵀ the projection on the top k_M left
/// singular vectors of τ_M and k_M the smallest k whose tail energy Σ_{i>k} σᵢ² is at most ε²·Σσᵢ²
/// (ε = 0.05). A task whose directions the merge keeps has SAR near 1. Cost: one SVD of τ_M and
/// one k_M×m×n GEMM per task.
public struct SubspaceAlignment: Sendable {
    /// k_M (0 for a zero τ_M).
    public let rank: Int
    /// SAR per task, in input order.
    public let ratios: [Double]
    /// Singular values of τ_M, descending.
    public let singularValues: [Double]

    public static let epsilon = 0.05

    /// The smallest k with Σ_{i>k} σᵢ² ≤ ε²·Σσᵢ² (0 when every σ is 0).
    public static func energyRank(_ sigma: [Double], epsilon: Double = epsilon) -> Int {
        let total = sigma.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 0 }
        var tail = total
        for (index, s) in sigma.enumerated() {
            tail -= s * s
            if tail <= epsilon * epsilon * total { return index + 1 }
        }
        return sigma.count
    }

    public init<T: LinalgScalar>(taskVectors: [Matrix<T>], merged: Matrix<T>, threads: Int? = nil) throws(LinalgError) {
        let svd = try SVD(merged, threads: threads)
        let sigma = svd.singularValues.map(Double.init)
        let k = Self.energyRank(sigma)
        let basis = svd.u.selecting(columns: Array(0..<k))
        singularValues = sigma
        rank = k
        ratios = taskVectors.map { tau in
            let norm = tau.elements.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm > 0, k > 0 else { return 0 }
            let projected = product(basis, tau, transposeA: true, threads: threads)
            return projected.elements.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() / norm
        }
    }
}
