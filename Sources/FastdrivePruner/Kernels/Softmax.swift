// Softmax.swift — the online-softmax step and final normalisation of blocked attention.
import CKernels

extension Kernels {
    /// One flash-attention step for query rows q0... against key rows k0...: turns the logits
    /// `s` into exp(s − m_new) (0 where causally masked), updates the running row max/sum, and
    /// rescales the running output `o` so that `o += p·v` completes the step.
    static func softmaxStep(_ s: MatrixView, q0: Int, k0: Int, causal: Bool,
                            rowMax: MatrixView, rowSum: MatrixView, output o: MatrixView) {
        assert(s.rows == o.rows && rowMax.cols == s.rows && rowSum.cols == s.rows)
        fdk_softmax_block(s.base, Int64(s.rowStride), Int64(s.rows), Int64(s.cols), Int64(q0), Int64(k0),
                          causal ? 1 : 0, rowMax.base, rowSum.base, o.base, Int64(o.rowStride), Int64(o.cols))
    }

    /// o[r][c] /= rowSum[r]: the softmax's denominators, applied once the last key block is in.
    static func divideRows(_ o: MatrixView, by rowSum: ConstMatrixView) {
        assert(rowSum.cols == o.rows)
        fdk_divide_rows(o.base, Int64(o.rowStride), rowSum.base, Int64(o.rows), Int64(o.cols))
    }
}
