// Dot.swift — the fused Hadamard + linear scorer as one dot product per row.
import CKernels

extension Kernels {
    /// out[n] = a[n] * b[n].
    static func multiply(out: MatrixView, _ a: VectorView, _ b: VectorView) {
        assert(out.rows == 1 && out.cols == a.count && a.count == b.count)
        fdk_mul(out.base, a.base, b.base, Int64(a.count))
    }

    /// out[0][r] = dot(h[r], u) + bias.
    static func dotRows(out: MatrixView, _ h: ConstMatrixView, _ u: VectorView, bias: Float) {
        assert(h.cols == u.count && out.rows == 1 && out.cols == h.rows)
        fdk_dot_rows(out.base, h.base, Int64(h.stride), u.base, bias, Int64(h.rows), Int64(h.cols))
    }
}
