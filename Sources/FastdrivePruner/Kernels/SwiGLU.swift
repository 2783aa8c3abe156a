// SwiGLU.swift — the MLP activation silu(gate) * up, in place in the gate buffer.
import CKernels

extension Kernels {
    /// gate[r][c] = silu(gate[r][c]) * up[r][c].
    static func swiglu(gate: MatrixView, up: ConstMatrixView) {
        assert(gate.rows == up.rows && gate.cols == up.cols)
        fdk_swiglu(gate.base, Int64(gate.rowStride), up.base, Int64(up.rowStride), Int64(gate.rows), Int64(gate.cols))
    }
}
