// Similarity.swift — the selection kernels: norms, cosine Gram passes, DivPrune updates, argmax.
import CKernels

extension Kernels {
    /// out[0][r] = Σ_c x[r][c]² (canonical dot order, f32).
    static func sumSquares(out: MatrixView, _ x: ConstMatrixView) {
        assert(out.rows == 1 && out.cols == x.rows)
        fdk_sum_squares_rows(out.base, x.base, Int64(x.stride), Int64(x.rows), Int64(x.cols))
    }

    /// x[r] = x[r] / ‖x[r]‖₂ in place; an all-zero row stays zero.
    static func normalizeRows(_ x: MatrixView) {
        fdk_normalize_l2_rows(x.base, Int64(x.stride), Int64(x.rows), Int64(x.cols))
    }

    /// best[0][i] = max_{j≠i} x[i]·x[j] over the rows of x, without storing the Gram matrix.
    static func maxSimilarity(best: MatrixView, _ x: ConstMatrixView) {
        assert(best.rows == 1 && best.cols == x.rows)
        fdk_gram(best.base, nil, 0, x.base, Int64(x.stride), Int64(x.rows), Int64(x.cols))
    }

    /// sim[i][j] = x[i]·x[j] for i ≠ j (rows × rows; the diagonal is left as it was).
    static func similarityMatrix(_ sim: MatrixView, _ x: ConstMatrixView) {
        assert(sim.rows == x.rows && sim.cols == x.rows)
        fdk_gram(nil, sim.base, Int64(sim.stride), x.base, Int64(x.stride), Int64(x.rows), Int64(x.cols))
    }

    /// x[i]·x[j] in the same order as every other selection kernel.
    static func dot(_ x: ConstMatrixView, _ i: Int, _ j: Int) -> Float {
        fdk_dot(x.base + i * x.stride, x.base + j * x.stride, Int64(x.cols))
    }

    /// minDistance[0][r] = min(minDistance[0][r], 1 − x[r]·x[u]) except where it is −∞ (selected).
    static func updateMinDistance(_ minDistance: MatrixView, _ x: ConstMatrixView, from u: Int) {
        assert(minDistance.rows == 1 && minDistance.cols == x.rows)
        fdk_min_distance_update(minDistance.base, x.base, Int64(x.stride), x.base + u * x.stride,
                                Int64(x.rows), Int64(x.cols))
    }

    /// The index of the largest value, the lowest index on ties (no NaN).
    static func argmax(_ v: MatrixView) -> Int {
        assert(v.rows == 1 && v.cols >= 1)
        return Int(fdk_argmax(v.base, Int64(v.cols)))
    }

    /// m[i][j], for the policies that read a precomputed matrix element by element.
    @inline(__always)
    static func element(_ m: MatrixView, _ i: Int, _ j: Int) -> Float {
        assert(i >= 0 && i < m.rows && j >= 0 && j < m.cols)
        return m.base[i * m.stride + j]
    }
}
