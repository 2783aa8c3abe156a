// MLP.swift — phase 5: the visual rows' MLP, ending in their scores.

/// For rows [r0, r0+n): gate/up of rms2(h), then S_i = h_i·v + (silu(gate_i) ⊙ up_i)·u + b
/// with each frame's v and u from QueryRowsPhase: the scorer folded through down_proj, so
/// the rows' down projection and H itself are never computed. Query rows in the chunk are
/// skipped when scoring (QueryRowsPhase did them). Each worker owns its chunk's gate/up buffers.
final class MLPPhase: ParallelJob {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace
    let frames: FrameList
    var frame = FrameGeometry()
    /// The caller's scores (1 × the call's tokens); nil when only the GEMMs run.
    var scores: MatrixView?

    init(weights: WeightSet, config: PrunerConfig, workspace: Workspace, frames: FrameList) {
        self.weights = weights
        self.config = config
        self.workspace = workspace
        self.frames = frames
    }

    func run(task: Int, worker: Int) {
        let (r0, n) = frame.chunk(task)
        guard n > 0 else { return }
        let w = workspace, c = config, scratch = workspace.workers[worker]
        let h = w.x.rows(r0, n).readOnly
        let hn = w.xn.rows(r0, n).columns(0, c.hiddenSize)
        if !frame.gemmOnly {
            Kernels.rmsNorm(out: hn, h, weight: weights.postNorm, eps: Float(c.rmsNormEps))
        }
        let gate = scratch.gate.rows(0, n), up = scratch.up.rows(0, n)
        Kernels.linear(out: gate, hn.readOnly, weight: weights.gateProj, accumulate: false, scratch: scratch.bf16Rows)
        Kernels.linear(out: up, hn.readOnly, weight: weights.upProj, accumulate: false, scratch: scratch.bf16Rows)
        guard !frame.gemmOnly, let scores else { return }
        let folds = w.queryRows
        for f in 0..<frames.count {
            let fr = frames[f]
            let start = max(r0, fr.start + 1), end = min(r0 + n, fr.start + fr.rows)
            guard start < end else { continue }
            let count = end - start, local = start - r0
            Kernels.foldedScores(out: scores.columns(fr.scoreOffset + start - fr.start - 1, count),
                                 h: h.rows(local, count), v: folds.fused.readOnly.row(f),
                                 gate: gate.readOnly.rows(local, count), up: up.readOnly.rows(local, count),
                                 u: folds.folded.readOnly.row(f), bias: weights.scorerBias)
        }
    }
}
