import Linalg

/// Singular triplets of several SVDs side by side: U's columns, σ and Vᵀ's rows in one order,
/// assembled once at the end.
struct StackedTriplets<T: LinalgScalar> {
    let rows: Int
    let columns: Int
    private var uBlocks: [Matrix<T>] = []
    private var vtBlocks: [Matrix<T>] = []
    private(set) var sigma: [T] = []
    /// The error of the appended vectors (`RankRule.liveDirections`).
    private(set) var vectorError = VectorError.none

    init(rows m: Int, columns n: Int) {
        (rows, columns) = (m, n)
    }

    var count: Int { sigma.count }

    /// Appends the first `live` triplets of `svd`, whose vectors carry `error`.
    mutating func append(_ svd: TruncatedSVD<T>, live: Int, error: VectorError) {
        append(u: svd.u.selecting(columns: Array(0..<live)), sigma: Array(svd.singularValues.prefix(live)),
               vt: svd.vt.selecting(rows: Array(0..<live)), error: error)
    }

    /// Appends `block`'s columns, `values` and `vtRows`' rows, whose vectors carry `error`.
    mutating func append(u block: Matrix<T>, sigma values: [T], vt vtRows: Matrix<T>, error: VectorError) {
        uBlocks.append(block)
        vtBlocks.append(vtRows)
        sigma += values
        vectorError = vectorError + error
    }

    /// rows × count: the U blocks side by side.
    var u: Matrix<T> {
        var result = Matrix<T>(rows: rows, columns: count)
        var column = 0
        for block in uBlocks {
            result.place(block, row: 0, column: column)
            column += block.columns
        }
        return result
    }

    /// count × columns: the Vᵀ blocks stacked.
    var vt: Matrix<T> {
        var result = Matrix<T>(rows: count, columns: columns)
        var row = 0
        for block in vtBlocks {
            result.place(block, row: row, column: 0)
            row += block.rows
        }
        return result
    }
}
