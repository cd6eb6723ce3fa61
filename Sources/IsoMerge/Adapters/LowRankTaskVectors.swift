import Linalg

/// The task vectors of one m × n matrix when each is low-rank, τ_t = L_t·R_tᵀ (L_t m × r_t,
/// R_t n × r_t; a task without the matrix has r_t = 0), held as one pair of orthonormal bases and
/// small cores (docs/ALGORITHMS.md, "Low-rank task vectors"): with P = [L₁ … L_T] = Q_L·R_L and
/// Q = [R₁ … R_T] = Q_R·R_R (thin QR, R = Σr_t columns), τ_t = Q_L·C_t·Q_Rᵀ with
/// C_t = R_L·E_t·R_Rᵀ, E_t selecting task t's columns. A side with R ≥ its dimension keeps the
/// identity as its basis and P (or Q) as its R factor, so cores are p × q, p = min(m, R),
/// q = min(n, R). Cost: two QRs, O((m + n)·R²), and T products of R × r_t × R. The bases are kept
/// as their QR factorizations: mapping a result back applies Q's reflectors, as cheap as forming
/// Q, and saves the product with the formed Q.
struct LowRankTaskVectors<T: LinalgScalar> {
    let rows: Int, columns: Int
    /// The QR of P whose Q is Q_L (m × p), or nil for the identity (p = m).
    let leftBasis: QRFactorization<T>?
    /// The QR of Q whose Q is Q_R (n × q), or nil for the identity (q = n).
    let rightBasis: QRFactorization<T>?
    /// C_t, p × q each.
    let cores: [Matrix<T>]
    /// r_t ≥ rank(C_t): the columns of task t's factors (0 for a task without the matrix).
    let ranks: [Int]

    /// From each task's factors (nil: the task does not adapt this matrix); at least one present.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    init(factors: [(left: Matrix<T>, right: Matrix<T>)?], rows m: Int, columns n: Int, threads: Int?) {
        (rows, columns) = (m, n)
        let present = factors.compactMap { $0 }
        let total = present.reduce(0) { $0 + $1.left.columns }
        func stacked(_ side: [Matrix<T>], rows: Int) -> Matrix<T> {
            var result = Matrix<T>(rows: rows, columns: total)
            var column = 0
            for block in side {
                result.place(block, row: 0, column: column)
                column += block.columns
            }
            return result
        }
        func basis(_ stack: Matrix<T>) -> (basis: QRFactorization<T>?, triangle: Matrix<T>) {
            guard stack.columns < stack.rows else { return (nil, stack) }
            let qr = QRFactorization(stack, threads: threads)
            return (qr, qr.r)
        }
        let (leftBasis, leftTriangle) = basis(stacked(present.map(\.left), rows: m))
        let (rightBasis, rightTriangle) = basis(stacked(present.map(\.right), rows: n))
        (self.leftBasis, self.rightBasis) = (leftBasis, rightBasis)
        var cores: [Matrix<T>] = []
        var column = 0
        for pair in factors {
            guard let pair else {
                cores.append(Matrix(rows: leftTriangle.rows, columns: rightTriangle.rows))
                continue
            }
            let block = Array(column..<(column + pair.left.columns))
            cores.append(product(leftTriangle.selecting(columns: block), rightTriangle.selecting(columns: block), transposeB: true,
                                 threads: threads))
            column += pair.left.columns
        }
        self.cores = cores
        ranks = factors.map { $0?.left.columns ?? 0 }
    }

    /// The merge of these task vectors by `rule`, as the SVD of its result: equal to the rule's
    /// matrix rule on the dense τ_t (`FactoredMatrixRule`). When a Float step cannot decide, the whole
    /// matrix is redone in Double from `exact` (the same factors in Double) and rounded back.
    func merged(by rule: some FactoredMatrixRule, exact: () throws -> LowRankTaskVectors<Double>, threads: Int?) throws -> LowRankMatrix<T> {
        let core: Matrix<T>
        do {
            core = try rule.mergeCores(cores, ranks: ranks, rows: rows, columns: columns, threads: threads)
        } catch is RankUndecidable {
            return try exact().merged(by: rule, exact: { preconditionFailure("Double decides every rank") }, threads: threads)
                .converted(to: T.self)
        }
        return try LowRankMatrix(core: core, left: leftBasis, right: rightBasis, rows: rows, columns: columns, threads: threads)
    }
}

/// A matrix as its SVD-ordered factors, X = left·rightᵀ with left = Q_L·U·Σ (m × k) and
/// right = Q_R·V (n × k, orthonormal columns), and its singular values σ (descending).
struct LowRankMatrix<T: LinalgScalar> {
    let rows: Int, columns: Int
    var left: Matrix<T>
    var right: Matrix<T>
    var singularValues: [T]

    /// From a core C (p × q) and the bases it is expressed in (their QRs; nil: the identity): one
    /// SVD of C, its vectors mapped back by applying each basis' reflectors to them padded with zeros.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    init(core: Matrix<T>, left leftBasis: QRFactorization<T>?, right rightBasis: QRFactorization<T>?, rows m: Int, columns n: Int,
         threads: Int?) throws {
        (rows, columns) = (m, n)
        let svd = try SVD(core, threads: threads)
        var scaled = svd.u
        scaled.withMutableView { u in
            for i in 0..<u.rows { for j in 0..<u.columns { u[i, j] *= svd.singularValues[j] } }
        }
        func mapped(_ x: Matrix<T>, by basis: QRFactorization<T>?, rows: Int) -> Matrix<T> {
            guard let basis else { return x }
            var padded = Matrix<T>(rows: rows, columns: x.columns)
            padded.place(x, row: 0, column: 0)
            basis.multiplyQ(&padded, transpose: false, threads: threads)
            return padded
        }
        left = mapped(scaled, by: leftBasis, rows: m)
        right = mapped(svd.vt.transposed, by: rightBasis, rows: n)
        singularValues = svd.singularValues
    }

    private init(rows: Int, columns: Int, left: Matrix<T>, right: Matrix<T>, singularValues: [T]) {
        (self.rows, self.columns, self.left, self.right, self.singularValues) = (rows, columns, left, right, singularValues)
    }

    /// k, the number of directions held.
    var rank: Int { singularValues.count }

    /// left·rightᵀ, m × n.
    func dense(threads: Int?) -> Matrix<T> { product(left, right, transposeB: true, threads: threads) }

    /// The best rank-`k` approximation (the leading k directions; all when k ≥ rank) and the share
    /// of ‖X‖_F² it leaves out.
    func truncated(rank k: Int) -> (matrix: LowRankMatrix<T>, discardedShare: Double) {
        let kept = min(k, rank)
        let energy = singularValues.reduce(0.0) { $0 + Double($1) * Double($1) }
        let leftOut = singularValues.dropFirst(kept).reduce(0.0) { $0 + Double($1) * Double($1) }
        let columns = Array(0..<kept)
        return (LowRankMatrix(rows: rows, columns: self.columns, left: left.selecting(columns: columns), right: right.selecting(columns: columns),
                              singularValues: Array(singularValues.prefix(kept))),
                energy > 0 ? leftOut / energy : 0)
    }

    /// The leading `k` triplets of a dense m × n matrix (`TruncatedSVD`), with its full ‖X‖_F² for the
    /// discarded share.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func leading(of x: Matrix<T>, rank k: Int, threads: Int?) throws -> (matrix: LowRankMatrix<T>, discardedShare: Double) {
        let top = try TruncatedSVD(x, rank: k, threads: threads)
        var scaled = top.u
        scaled.withMutableView { u in
            for i in 0..<u.rows { for j in 0..<u.columns { u[i, j] *= top.singularValues[j] } }
        }
        let energy = x.elements.reduce(0.0) { $0 + Double($1) * Double($1) }
        let kept = top.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (LowRankMatrix(rows: x.rows, columns: x.columns, left: scaled, right: top.vt.transposed, singularValues: top.singularValues),
                energy > 0 ? max(0, energy - kept) / energy : 0)
    }

    func converted<Other: LinalgScalar>(to _: Other.Type) -> LowRankMatrix<Other> {
        LowRankMatrix<Other>(rows: rows, columns: columns, left: left.converted(to: Other.self), right: right.converted(to: Other.self),
                             singularValues: singularValues.map { Other(Double($0)) })
    }
}
