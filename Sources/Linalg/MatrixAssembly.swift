/// Copying blocks, rows and columns between matrices with pointer loops (element subscripts
/// would pay a bounds and uniqueness check per element).
extension Matrix {
    /// The matrix made of `columns` (in that order) restricted to `rows`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func selecting(rows: Range<Int>? = nil, columns: [Int]) -> Matrix {
        let rows = rows ?? 0..<self.rows
        var result = Matrix(rows: rows.count, columns: columns.count)
        let width = self.columns
        elements.withUnsafeBufferPointer { source in
            result.elements.withUnsafeMutableBufferPointer { target in
                var out = 0
                for i in rows {
                    let row = source.baseAddress! + i * width
                    for j in columns {
                        target[out] = row[j]
                        out += 1
                    }
                }
            }
        }
        return result
    }

    /// The matrix made of `rows` (in that order).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func selecting(rows: [Int]) -> Matrix {
        var result = Matrix(rows: rows.count, columns: columns)
        let width = columns
        elements.withUnsafeBufferPointer { source in
            result.elements.withUnsafeMutableBufferPointer { target in
                for (k, i) in rows.enumerated() {
                    (target.baseAddress! + k * width).update(from: source.baseAddress! + i * width, count: width)
                }
            }
        }
        return result
    }

    /// Copies `block` into this matrix with its top-left corner at (`row`, `column`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public mutating func place(_ block: Matrix, row: Int, column: Int) {
        precondition(row + block.rows <= rows && column + block.columns <= columns, "block does not fit")
        let (width, blockWidth) = (columns, block.columns)
        block.elements.withUnsafeBufferPointer { source in
            elements.withUnsafeMutableBufferPointer { target in
                for i in 0..<block.rows {
                    (target.baseAddress! + (row + i) * width + column).update(from: source.baseAddress! + i * blockWidth,
                                                                               count: blockWidth)
                }
            }
        }
    }

    /// The same values in another precision.
    @_specialize(exported: true, where Scalar == Float, Other == Double)
    @_specialize(exported: true, where Scalar == Double, Other == Float)
    public func converted<Other: LinalgScalar>(to _: Other.Type = Other.self) -> Matrix<Other> {
        Matrix<Other>(rows: rows, columns: columns, elements: elements.map { Other($0) })
    }
}
