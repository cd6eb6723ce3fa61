/// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads it, so that the
/// kernel streams both operands with unit stride from aligned memory whatever the operands'
/// strides. Partial panels at the bottom/right edge are padded with zeros, which lets the kernel
/// always run full tiles. Cost: one pass over the block, O(rows·columns), against O(m·n·k) flops.

/// Packs the `rows × depth` block `a` into micro-panels of `panelRows` rows: panel p holds rows
/// p·panelRows ..< (p+1)·panelRows, stored k-major (panelRows consecutive scalars per k).
func packA<T: LinalgScalar>(_ a: MatrixView<T>, panelRows mr: Int, into destination: UnsafeMutablePointer<T>) {
    let depth = a.columns
    var out = destination
    for top in stride(from: 0, to: a.rows, by: mr) {
        let height = min(mr, a.rows - top)
        let source = a.base + top &* a.rowStride
        if a.columnStride == 1 && height == mr && mr == 6 {
            // Six contiguous rows read side by side, each k's six values written together.
            let rows = (source, source + a.rowStride, source + 2 &* a.rowStride, source + 3 &* a.rowStride,
                        source + 4 &* a.rowStride, source + 5 &* a.rowStride)
            var target = out
            for k in 0..<depth {
                target[0] = rows.0[k]
                target[1] = rows.1[k]
                target[2] = rows.2[k]
                target[3] = rows.3[k]
                target[4] = rows.4[k]
                target[5] = rows.5[k]
                target += 6
            }
        } else if a.columnStride == 1 {
            // Rows are contiguous in k: read along a row, write with stride mr.
            for i in 0..<height {
                let row = source + i &* a.rowStride
                for k in 0..<depth { out[k &* mr &+ i] = row[k] }
            }
        } else {
            for k in 0..<depth {
                let column = source + k &* a.columnStride
                for i in 0..<height { out[k &* mr &+ i] = column[i &* a.rowStride] }
            }
        }
        if height < mr {
            for k in 0..<depth { for i in height..<mr { out[k &* mr &+ i] = 0 } }
        }
        out += mr &* depth
    }
}

/// Packs the `depth × columns` block `b` into micro-panels of `panelColumns` columns: panel q
/// holds columns q·panelColumns ..< (q+1)·panelColumns, stored k-major (panelColumns consecutive
/// scalars per k).
func packB<T: LinalgScalar>(_ b: MatrixView<T>, panelColumns nr: Int, into destination: UnsafeMutablePointer<T>) {
    let depth = b.rows
    var out = destination
    for left in stride(from: 0, to: b.columns, by: nr) {
        let width = min(nr, b.columns - left)
        let source = b.base + left &* b.columnStride
        if b.columnStride == 1 {
            // Rows of B are contiguous: each k is one straight copy.
            for k in 0..<depth {
                (out + k &* nr).update(from: source + k &* b.rowStride, count: width)
            }
        } else {
            for j in 0..<width {
                let column = source + j &* b.columnStride
                for k in 0..<depth { out[k &* nr &+ j] = column[k &* b.rowStride] }
            }
        }
        if width < nr {
            for k in 0..<depth { (out + k &* nr + width).update(repeating: 0, count: nr - width) }
        }
        out += nr &* depth
    }
}
