// OutputProjection.swift — phase 3: o_proj + the attention residual, per row chunk.

/// For rows [r0, r0+n): h = x + o_proj(attn), in place in the residual stream. After this
/// phase the attention output (in the xn buffer) is dead, so the MLP phases may reuse xn.
final class OutputProjectionPhase: ParallelJob {
    let weights: WeightSet
    let workspace: Workspace
    var frame = FrameGeometry()

    init(weights: WeightSet, workspace: Workspace) {
        self.weights = weights
        self.workspace = workspace
    }

    func run(task: Int, worker: Int) {
        let (r0, n) = frame.chunk(task)
        guard n > 0 else { return }
        let w = workspace
        Kernels.linear(out: w.x.rows(r0, n), w.attention.rows(r0, n).readOnly, weight: weights.oProj,
                       accumulate: true, scratch: w.workers[worker].bf16Rows)
    }
}
