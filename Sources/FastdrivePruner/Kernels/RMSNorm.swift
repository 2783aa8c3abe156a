// RMSNorm.swift — Qwen2 RMSNorm over the rows of a matrix.
import CKernels

extension Kernels {
    /// out[r][n] = x[r][n] * rsqrt(mean(x[r]²) + eps) * weight[n], f32 throughout.
    static func rmsNorm(out: MatrixView, _ x: ConstMatrixView, weight: VectorView, eps: Float) {
        assert(out.rows == x.rows && out.cols == x.cols && weight.count == x.cols)
        fdk_rmsnorm(out.base, Int64(out.rowStride), x.base, Int64(x.rowStride), weight.base,
                    Int64(x.rows), Int64(x.cols), eps)
    }
}
