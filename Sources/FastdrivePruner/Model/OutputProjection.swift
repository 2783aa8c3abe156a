// OutputProjection.swift — phase 3: o_proj + the attention residual, per row chunk.

/// For rows [r0, r0+n): h = x + o_proj(attn), in place in the residual stream. After this
/// phase the attention output (in the xn buffer) is dead, so the MLP phases may reuse xn.
struct OutputProjectionPhase {
    let weights: WeightSet
    let workspace: Workspace

    func run(task: Int, worker: Int, _ pass: PassContext) {
        let (r0, n) = pass.chunk(task)
        guard n > 0 else { return }
        let w = workspace
        _ = Kernels.linear(out: w.x.rows(r0, n), w.attention.rows(r0, n).readOnly, weight: weights.oProj,
                           accumulate: true, scratch: w.workers[worker].linear, until: pass.shouldStop)
    }
}
