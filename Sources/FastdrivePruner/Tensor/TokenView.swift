// TokenView.swift — the host's visual tokens, validated once, read in place (zero copy).

/// A validated view of `fastdrive_tokens`: `n` rows of `dim` elements of `dtype`, row i at
/// base + i·stride elements. The host's memory is only read, and only during a call.
struct TokenView {
    let base: UnsafeRawPointer
    let dtype: ElementType
    let n: Int
    let dim: Int
    let stride: Int
    let gridH: Int
    let gridW: Int

    /// Checks what can be checked without a model: counts, stride, the element type, and that
    /// the byte span of the view does not overflow the address space.
    init(base: UnsafeRawPointer, dtype rawDType: Int32, n: Int, dim: Int, stride: Int,
         gridH: Int, gridW: Int) throws(PrunerError) {
        guard let dtype = ElementType(rawValue: rawDType) else {
            throw .invalidArgument("tokens->dtype = \(rawDType) is not FASTDRIVE_F32, FASTDRIVE_F16 or FASTDRIVE_BF16")
        }
        guard n >= 1 else { throw .invalidArgument("tokens->n_tokens = \(n); need at least 1 token") }
        guard dim >= 1 else { throw .invalidArgument("tokens->dim = \(dim); must be positive") }
        let rowStride = stride == 0 ? dim : stride
        guard rowStride >= dim else {
            throw .invalidArgument("tokens->row_stride = \(stride) is smaller than dim = \(dim)")
        }
        guard gridH >= 0, gridW >= 0 else {
            throw .invalidArgument("tokens grid \(gridH)×\(gridW) has a negative side")
        }
        let (last, o1) = (n - 1).multipliedReportingOverflow(by: rowStride)
        let (elements, o2) = last.addingReportingOverflow(dim)
        let (_, o3) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !(o1 || o2 || o3) else {
            throw .invalidArgument("tokens view of \(n) rows × stride \(rowStride) overflows")
        }
        self.base = base
        self.dtype = dtype
        self.n = n
        self.dim = dim
        self.stride = rowStride
        self.gridH = gridH
        self.gridW = gridW
    }

    /// Whether a grid was given (both sides non-zero).
    var hasGrid: Bool { gridH > 0 || gridW > 0 }

    /// Converts rows [start, start+count) to f32 into `out` (count × dim).
    /// Returns the (row, column) of the first NaN/Inf, or nil when every value is finite.
    func convert(rows start: Int, count: Int, into out: MatrixView) -> (row: Int, col: Int)? {
        for r in 0..<count {
            let row = base + (start + r) * stride * dtype.byteSize
            if let bad = Kernels.convertToF32(out: out.rows(r, 1), source: row, dtype: dtype) {
                return (start + r, bad)
            }
        }
        return nil
    }
}
