@testable import Linalg

/// The three LAPACK ratios of an SVD (xGESDD's tests), ‖A − UΣVᵀ‖_F/(‖A‖_F·max(m,n)·ε),
/// ‖UᵀU − I‖_F/(m·ε) and ‖VᵀV − I‖_F/(n·ε), computed in Double on A and σ normalized by A's
/// largest entry; LAPACK accepts an SVD whose ratios are below 50.
func lapackRatios<T: LinalgScalar>(_ a: Matrix<T>, _ svd: SVD<T>) -> (residual: Double, u: Double, v: Double) {
    lapackRatios(a, u: svd.u, sigma: svd.singularValues, vt: svd.vt)
}

/// The same ratios for an SVD given by its factors (U m × r, σ, Vᵀ r × n).
func lapackRatios<T: LinalgScalar>(_ a: Matrix<T>, u: Matrix<T>, sigma: [T], vt: Matrix<T>) -> (residual: Double, u: Double, v: Double) {
    let (m, n) = (a.rows, a.columns), r = min(m, n)
    let eps = Double(T.ulpOfOne)
    let scale = max(a.elements.map { abs(Double($0)) }.max() ?? 0, Double.leastNormalMagnitude)
    var residual = 0.0, norm = 0.0
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<r { sum += Double(u[i, p]) * (Double(sigma[p]) / scale) * Double(vt[p, j]) }
            let aij = Double(a[i, j]) / scale
            residual += (aij - sum) * (aij - sum)
            norm += aij * aij
        }
    }
    func orthogonality(_ columns: Int, _ rows: Int, _ entry: (Int, Int) -> Double) -> Double {
        var sum = 0.0
        for i in 0..<columns {
            for j in 0..<columns {
                var dot = 0.0
                for p in 0..<rows { dot += entry(p, i) * entry(p, j) }
                sum += (dot - (i == j ? 1 : 0)) * (dot - (i == j ? 1 : 0))
            }
        }
        return sum.squareRoot()
    }
    let residualRatio = norm == 0 ? residual.squareRoot() / eps : residual.squareRoot() / (norm.squareRoot() * Double(max(m, n)) * eps)
    return (residualRatio,
            orthogonality(r, m) { Double(u[$0, $1]) } / (Double(max(1, m)) * eps),
            orthogonality(r, n) { Double(vt[$1, $0]) } / (Double(max(1, n)) * eps))
}
