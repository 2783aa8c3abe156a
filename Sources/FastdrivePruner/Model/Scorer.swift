// Scorer.swift — Hadamard fusion with the query output and the linear scorer.

/// S_i = (H[1+i] ⊙ hq) · w_s + b_s, computed as H[1+i] · (hq ⊙ w_s) + b_s.
struct Scorer {
    let weights: WeightSet

    /// fused = hq ⊙ w_s, once per frame (hq = H[0]).
    func prepare(fused: MatrixView, h: ConstMatrixView) {
        Kernels.multiply(out: fused, h.row(0), weights.scorer)
    }

    /// scores[i] for token rows [t0, t0+n) (H rows 1+t0 ...).
    func run(tokens t0: Int, count n: Int, h: ConstMatrixView, fused: ConstMatrixView, scores: MatrixView) {
        Kernels.dotRows(out: scores.columns(t0, n), h.rows(1 + t0, n), fused.row(0), bias: weights.scorerBias)
    }
}
