// MLP.swift — the post-attention half of the layer for one chunk of rows.

/// For rows [r0, r0+n): h = x + o_proj(attn); H = h + down(silu(gate(rms2(h))) · up(rms2(h))),
/// updating the residual stream `x` in place. Each worker owns its chunk's gate/up buffers.
struct MLPChunk {
    let weights: WeightSet
    let eps: Float
    let gemmOnly: Bool

    func run(rows r0: Int, count n: Int, x: MatrixView, attention: MatrixView, normed: MatrixView,
             scratch: Workspace.WorkerScratch) {
        let xs = x.rows(r0, n)
        Kernels.linear(out: xs, attention.rows(r0, n).readOnly, weight: weights.oProj, accumulate: true)
        // The attention rows of this chunk are consumed: rms2 may overwrite the shared buffer.
        let hn = normed.rows(r0, n)
        if !gemmOnly { Kernels.rmsNorm(out: hn, xs.readOnly, weight: weights.postNorm, eps: eps) }
        let gate = scratch.gate.rows(0, n), up = scratch.up.rows(0, n)
        Kernels.linear(out: gate, hn.readOnly, weight: weights.gateProj, accumulate: false)
        Kernels.linear(out: up, hn.readOnly, weight: weights.upProj, accumulate: false)
        if !gemmOnly { Kernels.swiglu(gate: gate, up: up.readOnly) }
        Kernels.linear(out: xs, gate.readOnly, weight: weights.downProj, accumulate: true)
    }
}
