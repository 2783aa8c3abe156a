// Similarity.swift — the selection kernels: norms, cosine Gram passes, DivPrune updates, argmax.
import CKernels

extension Kernels {
    /// out[0][r] = Σ_c x[r][c]² (canonical dot order, f32).
    static func sumSquares(out: MatrixView, _ x: ConstMatrixView) {
        assert(out.rows == 1 && out.cols == x.rows)
        fdk_sum_squares_rows(out.base, x.base, Int64(x.rowStride), Int64(x.rows), Int64(x.cols))
    }

    /// x[r] = x[r] / ‖x[r]‖₂ in place; an all-zero row stays zero.
    static func l2NormalizeRows(_ x: MatrixView) {
        fdk_normalize_l2_rows(x.base, Int64(x.rowStride), Int64(x.rows), Int64(x.cols))
    }

    /// Column chunks of the Gram pass over `rows` rows (see `gramChunk`).
    static func gramChunks(rows: Int) -> Int { Int(fdk_gram_chunks(Int64(rows))) }

    /// One column chunk of the Gram pass over the rows of x, every pair i < j of the chunk once:
    /// best[0][i] and best[0][j] take the max with x[i]·x[j] (best pre-set to −∞ by the caller);
    /// sim[i][j] = sim[j][i] = x[i]·x[j] (the diagonal is left as it was). Chunks may run
    /// concurrently with separate `best` rows and a shared `sim`.
    static func gramChunk(best: MatrixView?, sim: MatrixView?, _ x: ConstMatrixView, chunk: Int) {
        assert(best.map { $0.rows == 1 && $0.cols == x.rows } ?? true)
        assert(sim.map { $0.rows == x.rows && $0.cols == x.rows } ?? true)
        fdk_gram_chunk(best?.base, sim?.base, Int64(sim?.rowStride ?? 0), x.base, Int64(x.rowStride), Int64(x.rows),
                       Int64(x.cols), Int64(chunk))
    }

    /// into[0][c] = max(into[0][c], other[0][c]): merging per-worker maxima.
    static func maximum(into: MatrixView, _ other: ConstMatrixView) {
        assert(into.rows == 1 && other.rows == 1 && into.cols == other.cols)
        for c in 0..<into.cols where other.base[c] > into.base[c] { into.base[c] = other.base[c] }
    }

    /// x[i]·x[j] in the same order as every other selection kernel.
    static func dot(_ x: ConstMatrixView, _ i: Int, _ j: Int) -> Float {
        fdk_dot(x.base + i * x.rowStride, x.base + j * x.rowStride, Int64(x.cols))
    }

    /// minDistance[0][r] = min(minDistance[0][r], 1 − x[r]·u) except where it is −∞ (selected).
    static func updateMinDistance(_ minDistance: MatrixView, _ x: ConstMatrixView, toward u: VectorView) {
        assert(minDistance.rows == 1 && minDistance.cols == x.rows && u.count == x.cols)
        fdk_min_distance_update(minDistance.base, x.base, Int64(x.rowStride), u.base, Int64(x.rows), Int64(x.cols))
    }

    /// out[0][r] = x[r]·u (canonical order).
    static func dots(out: MatrixView, _ x: ConstMatrixView, toward u: VectorView) {
        assert(out.rows == 1 && out.cols == x.rows && u.count == x.cols)
        fdk_dot_rows(out.base, x.base, Int64(x.rowStride), u.base, Int64(x.rows), Int64(x.cols))
    }

    /// out[0][r] = Σ_c |x[r][c]| (f32, the canonical lane order).
    static func l1Norms(out: MatrixView, _ x: ConstMatrixView) {
        assert(out.rows == 1 && out.cols == x.rows)
        fdk_l1_norm_rows(out.base, x.base, Int64(x.rowStride), Int64(x.rows), Int64(x.cols))
    }

    /// CDPruner's greedy step over the rows of x (factors' rows and d2, quality aligned with
    /// them): see fdk_dpp_update. `pickFactors` is the picked token's factor row.
    static func dppUpdate(d2: UnsafeMutablePointer<Double>, factors: MatrixView, step: Int,
                          pickFactors: UnsafePointer<Float>, _ x: ConstMatrixView, toward u: VectorView,
                          quality: VectorView, pickQuality: Double, den: Double) {
        assert(factors.rows == x.rows && quality.count == x.rows && step < factors.cols)
        fdk_dpp_update(d2, factors.base, Int64(factors.rowStride), Int64(step), pickFactors, x.base,
                       Int64(x.rowStride), u.base, quality.base, pickQuality, den, Int64(x.rows), Int64(x.cols))
    }

    /// The index of the largest of v[0 ..< n] (f64), the lowest index on ties (no NaN).
    static func argmax(_ v: UnsafePointer<Double>, count n: Int) -> Int {
        assert(n >= 1)
        return Int(fdk_argmax_f64(v, Int64(n)))
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
        return m.base[i * m.rowStride + j]
    }
}
