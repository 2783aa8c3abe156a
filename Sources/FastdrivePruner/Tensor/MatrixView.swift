// MatrixView.swift — non-owning row-major f32 matrix views (base, rows, cols, row stride in elements).
//
// The model code slices these and hands them to kernels; only Kernels/ reads `base`.

/// A writable f32 matrix inside the arena: row r starts at base + r·rowStride.
struct MatrixView {
    let base: UnsafeMutablePointer<Float>
    let rows: Int
    let cols: Int
    let rowStride: Int

    init(base: UnsafeMutablePointer<Float>, rows: Int, cols: Int, rowStride: Int? = nil) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride ?? cols
        assert(rows >= 0 && cols >= 0 && self.rowStride >= cols)
    }

    /// Rows [start, start+count).
    func rows(_ start: Int, _ count: Int) -> MatrixView {
        assert(start >= 0 && count >= 0 && start + count <= rows)
        return MatrixView(base: base + start * rowStride, rows: count, cols: cols, rowStride: rowStride)
    }

    /// Columns [start, start+count) of every row.
    func columns(_ start: Int, _ count: Int) -> MatrixView {
        assert(start >= 0 && count >= 0 && start + count <= cols)
        return MatrixView(base: base + start, rows: rows, cols: count, rowStride: rowStride)
    }

    /// The same memory seen as rows × cols contiguous (only for a view that owns its rows).
    func reshaped(rows: Int, cols: Int) -> MatrixView {
        assert(rows * cols <= self.rows * rowStride)
        return MatrixView(base: base, rows: rows, cols: cols)
    }

    var readOnly: ConstMatrixView { ConstMatrixView(base: UnsafePointer(base), rows: rows, cols: cols, rowStride: rowStride) }
}

/// A read-only f32 matrix (weights in the mapping, or activations read by a kernel).
struct ConstMatrixView {
    let base: UnsafePointer<Float>
    let rows: Int
    let cols: Int
    let rowStride: Int

    init(base: UnsafePointer<Float>, rows: Int, cols: Int, rowStride: Int? = nil) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride ?? cols
        assert(rows >= 0 && cols >= 0 && self.rowStride >= cols)
    }

    func rows(_ start: Int, _ count: Int) -> ConstMatrixView {
        assert(start >= 0 && count >= 0 && start + count <= rows)
        return ConstMatrixView(base: base + start * rowStride, rows: count, cols: cols, rowStride: rowStride)
    }

    func columns(_ start: Int, _ count: Int) -> ConstMatrixView {
        assert(start >= 0 && count >= 0 && start + count <= cols)
        return ConstMatrixView(base: base + start, rows: rows, cols: count, rowStride: rowStride)
    }

    /// Row i as a vector.
    func row(_ i: Int) -> VectorView {
        assert(i >= 0 && i < rows)
        return VectorView(base: base + i * rowStride, count: cols)
    }
}

/// A read-only f32 vector (norm weights, biases, the query token).
struct VectorView {
    let base: UnsafePointer<Float>
    let count: Int

    /// The vector as a 1 × count matrix.
    var asRow: ConstMatrixView { ConstMatrixView(base: base, rows: 1, cols: count) }

    /// Elements [start, start+count).
    func elements(_ start: Int, _ count: Int) -> VectorView {
        assert(start >= 0 && count >= 0 && start + count <= self.count)
        return VectorView(base: base + start, count: count)
    }

    /// Element i, for the few scalars the model reads directly (the scorer bias).
    subscript(i: Int) -> Float {
        assert(i >= 0 && i < count)
        return base[i]
    }
}
