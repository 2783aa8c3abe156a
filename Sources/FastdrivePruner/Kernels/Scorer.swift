// Scorer.swift — the Hadamard-fused scorer, folded through the MLP's down projection.
import CKernels

extension Kernels {
    /// out[r][c] = a[r][c] * w[c]: each frame's v = hq ⊙ w_s.
    static func scaleColumns(out: MatrixView, _ a: ConstMatrixView, by w: VectorView) {
        assert(out.rows == a.rows && out.cols == a.cols && w.count == a.cols)
        for r in 0..<a.rows {
            fdk_mul(out.base + r * out.rowStride, a.base + r * a.rowStride, w.base, Int64(a.cols))
        }
    }

    /// out[r][0] = Σ_c silu(gate[r][c])·up[r][c]·u[c]: one column slice's share of each row's m·u.
    static func swigluDots(out: MatrixView, gate: ConstMatrixView, up: ConstMatrixView, u: VectorView) {
        assert(out.rows == gate.rows && out.cols == 1 && gate.rows == up.rows && gate.cols == u.count && up.cols == u.count)
        fdk_swiglu_dots(out.base, Int64(out.rowStride), gate.base, Int64(gate.rowStride), up.base, Int64(up.rowStride),
                        u.base, Int64(u.count), Int64(gate.rows))
    }

    /// out[0][r] = h[r]·v + Σ_s parts[r][s] + bias: the scores from the slices' shares of m·u.
    static func foldedScores(out: MatrixView, h: ConstMatrixView, v: VectorView, parts: ConstMatrixView, bias: Float) {
        assert(out.rows == 1 && out.cols == h.rows && h.rows == parts.rows && h.cols == v.count)
        fdk_folded_scores_from_parts(out.base, h.base, Int64(h.rowStride), v.base, Int64(h.cols), parts.base,
                                     Int64(parts.rowStride), Int64(parts.cols), bias, Int64(h.rows))
    }

    /// out[0][r] = h[r]·v + Σ_c silu(gate[r][c])·up[r][c]·u[c] + bias: S for rows whose
    /// residual h and MLP pre-activations gate/up are given, with v = hq ⊙ w_s and u = W_downᵀ·v.
    static func foldedScores(out: MatrixView, h: ConstMatrixView, v: VectorView, gate: ConstMatrixView,
                             up: ConstMatrixView, u: VectorView, bias: Float) {
        assert(out.rows == 1 && out.cols == h.rows && h.rows == gate.rows && gate.rows == up.rows)
        assert(h.cols == v.count && gate.cols == u.count && up.cols == u.count)
        fdk_folded_scores(out.base, h.base, Int64(h.rowStride), v.base, Int64(h.cols),
                          gate.base, Int64(gate.rowStride), up.base, Int64(up.rowStride), u.base, Int64(u.count),
                          bias, Int64(h.rows))
    }
}
