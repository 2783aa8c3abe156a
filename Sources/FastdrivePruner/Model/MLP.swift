// MLP.swift — phase 3: o_proj + residual, rms2, SwiGLU MLP + residual, per row chunk.

/// For rows [r0, r0+n): h = x + o_proj(attn); H = h + down(silu(gate(rms2(h))) · up(rms2(h))),
/// updating the residual stream `x` in place. Each worker owns its chunk's gate/up buffers.
final class MLPPhase: ParallelJob {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace
    var frame = FrameGeometry()

    init(weights: WeightSet, config: PrunerConfig, workspace: Workspace) {
        self.weights = weights
        self.config = config
        self.workspace = workspace
    }

    func run(task: Int, worker: Int) {
        let (r0, n) = frame.chunk(task)
        guard n > 0 else { return }
        let w = workspace, c = config, scratch = workspace.workers[worker]
        let xs = w.x.rows(r0, n)
        let packed = scratch.bf16Rows
        Kernels.linear(out: xs, w.attention.rows(r0, n).readOnly, weight: weights.oProj, accumulate: true, scratch: packed)
        // This chunk's attention rows are consumed: rms2 may overwrite the shared buffer.
        let hn = w.xn.rows(r0, n).columns(0, c.hiddenSize)
        if !frame.gemmOnly {
            Kernels.rmsNorm(out: hn, xs.readOnly, weight: weights.postNorm, eps: Float(c.rmsNormEps))
        }
        let gate = scratch.gate.rows(0, n), up = scratch.up.rows(0, n)
        Kernels.linear(out: gate, hn.readOnly, weight: weights.gateProj, accumulate: false, scratch: packed)
        Kernels.linear(out: up, hn.readOnly, weight: weights.upProj, accumulate: false, scratch: packed)
        if !frame.gemmOnly { Kernels.swiglu(gate: gate, up: up.readOnly) }
        Kernels.linear(out: xs, gate.readOnly, weight: weights.downProj, accumulate: true, scratch: packed)
    }
}
