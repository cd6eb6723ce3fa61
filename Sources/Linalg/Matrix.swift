/// A dense row-major matrix that owns its elements.
///
/// Row-major matches the safetensors layout, so a checkpoint tensor is a matrix without a copy.
/// Computation happens on views (`MatrixView`, `MutableMatrixView`): borrowed pointers with
/// strides, valid only inside the `withView`/`withMutableView` closure that hands them out.
public struct Matrix<Scalar: LinalgScalar>: Sendable, Equatable {
    /// The number of rows, m.
    public let rows: Int
    /// The number of columns, n.
    public let columns: Int
    /// The elements, row after row: element (i, j) is `elements[i * columns + j]`.
    public internal(set) var elements: [Scalar]

    /// A `rows × columns` matrix with every element equal to `value`.
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.elements = Array(repeating: value, count: rows * columns)
    }

    /// A matrix over `elements` in row-major order; `elements.count` must be `rows * columns`.
    public init(rows: Int, columns: Int, elements: [Scalar]) {
        precondition(rows >= 0 && columns >= 0 && elements.count == rows * columns,
                     "matrix of \(rows)×\(columns) needs \(rows * columns) elements, got \(elements.count)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A `rows × columns` matrix whose elements are left as the allocator gave them: only for
    /// buffers that are written in full before any element is read (a copy, or a GEMM with β = 0,
    /// which never reads C), where zeroing them first would be a wasted pass over memory.
    init(uninitializedRows rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.elements = Array(unsafeUninitializedCapacity: rows * columns) { _, count in count = rows * columns }
    }

    /// A matrix whose element (i, j) is `entry(i, j)`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(rows: Int, columns: Int, entry: (Int, Int) -> Scalar) {
        var elements = [Scalar]()
        elements.reserveCapacity(rows * columns)
        for i in 0..<rows { for j in 0..<columns { elements.append(entry(i, j)) } }
        self.init(rows: rows, columns: columns, elements: elements)
    }

    /// The n×n identity.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func identity(_ n: Int) -> Matrix {
        var identity = Matrix(rows: n, columns: n)
        for i in 0..<n { identity.elements[i * n + i] = 1 }
        return identity
    }

    /// Element (`row`, `column`); both must be in range.
    public subscript(row: Int, column: Int) -> Scalar {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "index out of range")
            return elements[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "index out of range")
            elements[row * columns + column] = newValue
        }
    }

    /// The transpose, as a new matrix: copied in 32×32 tiles, so that both the rows read and the
    /// rows written stay in cache.
    public var transposed: Matrix {
        @_specialize(exported: true, where Scalar == Float)
        @_specialize(exported: true, where Scalar == Double)
        get {
            var result = Matrix(rows: columns, columns: rows)
            let (m, n) = (rows, columns)
            let tile = 32
            elements.withUnsafeBufferPointer { source in
                result.elements.withUnsafeMutableBufferPointer { target in
                    let (a, t) = (source.baseAddress!, target.baseAddress!)
                    for i0 in stride(from: 0, to: m, by: tile) {
                        for j0 in stride(from: 0, to: n, by: tile) {
                            for i in i0..<min(i0 + tile, m) {
                                for j in j0..<min(j0 + tile, n) { t[j &* m &+ i] = a[i &* n &+ j] }
                            }
                        }
                    }
                }
            }
            return result
        }
    }

    /// Calls `body` with a read-only view of the whole matrix.
    public func withView<R>(_ body: (MatrixView<Scalar>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer { buffer in
            try body(MatrixView(base: buffer.baseAddress ?? emptyBase(), rows: rows, columns: columns,
                                rowStride: columns, columnStride: 1))
        }
    }

    /// Calls `body` with a mutable view of the whole matrix.
    public mutating func withMutableView<R>(_ body: (MutableMatrixView<Scalar>) throws -> R) rethrows -> R {
        let (rows, columns) = (self.rows, self.columns)
        return try elements.withUnsafeMutableBufferPointer { buffer in
            try body(MutableMatrixView(base: buffer.baseAddress ?? UnsafeMutablePointer(mutating: emptyBase()),
                                       rows: rows, columns: columns, leadingDimension: columns))
        }
    }
}

/// A valid, never dereferenced address for views of empty matrices.
@usableFromInline
func emptyBase<Scalar>() -> UnsafePointer<Scalar> {
    UnsafePointer(bitPattern: MemoryLayout<Scalar>.alignment)!
}

/// A read-only strided window onto matrix elements: element (i, j) is at
/// `base[i * rowStride + j * columnStride]`. Transposition swaps the strides, so `op(A)` of BLAS
/// is just `a.transposed`. The view borrows memory it does not own.
public struct MatrixView<Scalar: LinalgScalar>: @unchecked Sendable {
    /// The address of element (0, 0).
    public let base: UnsafePointer<Scalar>
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// The distance, in elements, from one row to the next.
    public let rowStride: Int
    /// The distance, in elements, from one column to the next.
    public let columnStride: Int

    /// A view of `rows` × `columns` elements at `base` with the given strides (any, even zero or
    /// negative, as long as every element addressed is valid while the view is used).
    public init(base: UnsafePointer<Scalar>, rows: Int, columns: Int, rowStride: Int, columnStride: Int) {
        precondition(rows >= 0 && columns >= 0, "view dimensions must be non-negative")
        self.base = base
        self.rows = rows
        self.columns = columns
        self.rowStride = rowStride
        self.columnStride = columnStride
    }

    /// The same elements read as the transpose: no data moves.
    public var transposed: MatrixView {
        MatrixView(base: base, rows: columns, columns: rows, rowStride: columnStride, columnStride: rowStride)
    }

    /// Element (`row`, `column`), unchecked.
    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        base[row &* rowStride &+ column &* columnStride]
    }

    /// The window of `rows` × `columns` elements whose top-left corner is (`row`, `column`).
    public func submatrix(row: Int, column: Int, rows: Int, columns: Int) -> MatrixView {
        precondition(row >= 0 && column >= 0 && row + rows <= self.rows && column + columns <= self.columns,
                     "submatrix out of range")
        return MatrixView(base: base + (row * rowStride + column * columnStride), rows: rows, columns: columns,
                          rowStride: rowStride, columnStride: columnStride)
    }
}

/// A mutable row-major window: element (i, j) is at `base[i * leadingDimension + j]`.
/// Outputs are always row-major so that the kernels can store whole vectors along a row.
public struct MutableMatrixView<Scalar: LinalgScalar>: @unchecked Sendable {
    /// The address of element (0, 0).
    public let base: UnsafeMutablePointer<Scalar>
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// The distance, in elements, from one row to the next (≥ columns when there are two rows or more).
    public let leadingDimension: Int

    /// A view of `rows` × `columns` elements at `base`, rows `leadingDimension` elements apart.
    public init(base: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, leadingDimension: Int) {
        precondition(rows >= 0 && columns >= 0 && (rows <= 1 || leadingDimension >= columns),
                     "a row-major view needs leadingDimension ≥ columns")
        self.base = base
        self.rows = rows
        self.columns = columns
        self.leadingDimension = leadingDimension
    }

    /// Element (`row`, `column`), unchecked; writable through the view.
    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { base[row &* leadingDimension &+ column] }
        nonmutating set { base[row &* leadingDimension &+ column] = newValue }
    }

    /// The same elements, read-only.
    public var view: MatrixView<Scalar> {
        MatrixView(base: base, rows: rows, columns: columns, rowStride: leadingDimension, columnStride: 1)
    }

    /// The window of `rows` × `columns` elements whose top-left corner is (`row`, `column`).
    public func submatrix(row: Int, column: Int, rows: Int, columns: Int) -> MutableMatrixView {
        precondition(row >= 0 && column >= 0 && row + rows <= self.rows && column + columns <= self.columns,
                     "submatrix out of range")
        return MutableMatrixView(base: base + (row * leadingDimension + column), rows: rows, columns: columns,
                                 leadingDimension: leadingDimension)
    }
}
