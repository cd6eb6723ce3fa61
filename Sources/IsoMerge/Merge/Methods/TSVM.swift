import Linalg

/// TSV-M, task singular vectors merge (ALGORITHMS.md): each task keeps its top s = ⌊r/T⌋ singular
/// triplets; they are concatenated (zero-padded to r columns) into U_cat, σ_cat, V_cat and
/// orthogonalized: τ_M = polar(U_cat)·diag(σ_cat)·polar(V_cat)ᵀ. Rank rule: each task's SVD relative
/// to its own σ₁, each polar factor relative to its own σ₁. Cost: T SVDs with the vectors of the
/// top s values only (`TruncatedSVD`), two polar SVDs, GEMMs.
enum TSVM {
    static func merge<T: LinalgScalar>(_ taskVectors: [Matrix<T>], threads: Int?) throws(LinalgError) -> Matrix<T> {
        let (m, n) = (taskVectors[0].rows, taskVectors[0].columns)
        let r = min(m, n), tasks = taskVectors.count
        let s = r / tasks
        var uCat = Matrix<T>(rows: m, columns: r), vtCat = Matrix<T>(rows: r, columns: n)
        var sigmaCat = [T](repeating: 0, count: r)
        for (t, tau) in taskVectors.enumerated() where s > 0 {
            // Only the top s triplets are needed; σ₁ among them is the rank rule's reference.
            let top = try TruncatedSVD(tau, rank: s, threads: threads)
            let tolerance = RankAwareSVD<T>.tolerance(rows: m, columns: n, reference: top.singularValues.first ?? 0)
            let live = top.singularValues.prefix { $0 > tolerance }.count
            uCat.place(top.u.selecting(columns: Array(0..<live)), row: 0, column: t * s)
            vtCat.place(top.vt.selecting(rows: Array(0..<live)), row: t * s, column: 0)
            for i in 0..<live { sigmaCat[t * s + i] = top.singularValues[i] }
        }
        var left = try rankAwarePolar(uCat, threads: threads)
        let right = try rankAwarePolar(vtCat, threads: threads)
        left.withMutableView { view in
            for i in 0..<m { for j in 0..<r { view[i, j] *= sigmaCat[j] } }
        }
        return product(left, right, threads: threads)
    }
}
