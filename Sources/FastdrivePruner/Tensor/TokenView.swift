// TokenView.swift — the host's visual tokens, validated once, read in place (zero copy).

/// A validated view of `fastdrive_tokens`: `n` rows of `dim` elements of `dtype`, row i at
/// base + i·rowStride elements. The host's memory is only read, and only during a call
/// (Kernels.convertToF32(out:tokens:) is the reader).
struct TokenView {
    let base: UnsafeRawPointer
    let dtype: ElementType
    let n: Int
    let dim: Int
    let rowStride: Int
    let gridH: Int
    let gridW: Int

    /// Checks what can be checked without a model: counts, row stride, the element type, and
    /// that the byte span of the view does not overflow the address space. `rowStride` 0 means
    /// contiguous rows (`dim`).
    init(base: UnsafeRawPointer, dtype rawDType: Int32, n: Int, dim: Int, rowStride: Int,
         gridH: Int, gridW: Int) throws(PrunerError) {
        guard let dtype = ElementType(rawValue: rawDType) else {
            throw .invalidArgument("tokens->dtype = \(rawDType) is not FASTDRIVE_F32, FASTDRIVE_F16 or FASTDRIVE_BF16")
        }
        guard n >= 1 else { throw .invalidArgument("tokens->n_tokens = \(n); need at least 1 token") }
        guard dim >= 1 else { throw .invalidArgument("tokens->dim = \(dim); must be positive") }
        let stride = rowStride == 0 ? dim : rowStride
        guard stride >= dim else {
            throw .invalidArgument("tokens->row_stride = \(rowStride) is smaller than dim = \(dim)")
        }
        guard gridH >= 0, gridW >= 0 else {
            throw .invalidArgument("tokens grid \(gridH)×\(gridW) has a negative side")
        }
        let (last, o1) = (n - 1).multipliedReportingOverflow(by: stride)
        let (elements, o2) = last.addingReportingOverflow(dim)
        let (_, o3) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !(o1 || o2 || o3) else {
            throw .invalidArgument("tokens view of \(n) rows × stride \(stride) overflows")
        }
        self.base = base
        self.dtype = dtype
        self.n = n
        self.dim = dim
        self.rowStride = stride
        self.gridH = gridH
        self.gridW = gridW
    }

    /// Whether the host named a grid: either side non-zero. (A grid with one side 0, or one
    /// that does not hold n tokens, is then a SHAPE error, not "no grid".)
    var hasGrid: Bool { gridH > 0 || gridW > 0 }

    /// Row i's first element.
    func row(_ i: Int) -> UnsafeRawPointer {
        assert(i >= 0 && i < n)
        return base + i * rowStride * dtype.byteSize
    }
}
