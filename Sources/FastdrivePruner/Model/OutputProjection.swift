// OutputProjection.swift — phase 3: o_proj + the attention residual, per row chunk, and the
// post-attention RMSNorm of the chunk's rows for the MLP.

/// For rows [r0, r0+n): h = x + o_proj(attn), in place in the residual stream, then
/// xn = rms2(h), converted for the MLP's kernel. The attention output lives in the xn buffer: the chunk's rows of it are dead
/// once o_proj has read them (no other task reads them), so the norm may overwrite them; the
/// MLP's column-slice tasks then all read the chunk's normalised rows.
struct OutputProjectionPhase {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace

    func run(task: Int, worker: Int, _ pass: PassContext) {
        let (r0, n) = pass.chunk(task)
        guard n > 0 else { return }
        let w = workspace
        guard Kernels.linear(out: w.x.rows(r0, n), w.attention.rows(r0, n).readOnly, weight: weights.oProj,
                             accumulate: true, scratch: w.workers[worker].linear, until: pass.shouldStop),
              !pass.gemmsOnly else { return }
        let hn = w.xn.rows(r0, n).columns(0, config.hiddenSize)
        Kernels.rmsNorm(out: hn, w.x.rows(r0, n).readOnly, weight: weights.postNorm, eps: Float(config.rmsNormEps))
        Kernels.convertRows(hn.readOnly, for: weights.gateProj, into: w.mlpInput.rows(from: r0, cols: config.hiddenSize))
    }
}
