// Copy.swift — strided block copies, fills and bias pre-loads.
import CKernels

extension Kernels {
    /// out[r][c] = bias[c]: pre-load before an accumulating GEMM adds x·Wᵀ.
    static func broadcastRows(out: MatrixView, _ bias: VectorView) {
        assert(bias.count == out.cols)
        fdk_broadcast_rows(out.base, Int64(out.rowStride), bias.base, Int64(out.rows), Int64(out.cols))
    }

    /// out = source, element-wise over rows × cols.
    static func copy(out: MatrixView, _ source: ConstMatrixView) {
        assert(out.rows == source.rows && out.cols == source.cols)
        fdk_copy_rows(out.base, Int64(out.rowStride), source.base, Int64(source.rowStride), Int64(out.rows), Int64(out.cols))
    }

    /// out[r][c] = value.
    static func fill(_ out: MatrixView, value: Float) {
        for r in 0..<out.rows { fdk_fill(out.base + r * out.rowStride, Int64(out.cols), value) }
    }
}
