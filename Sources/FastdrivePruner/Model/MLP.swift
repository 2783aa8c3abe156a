// MLP.swift — phase 5: the visual rows' MLP, ending in their scores.

/// For rows [r0, r0+n): gate/up of rms2(h), then S_i = h_i·v + (silu(gate_i) ⊙ up_i)·u + b
/// with each frame's v and u from QueryRowsPhase: the scorer folded through down_proj, so
/// the rows' down projection and H itself are never computed. Query rows in the chunk are
/// skipped when scoring (QueryRowsPhase did them). Each worker owns its chunk's gate/up buffers.
struct MLPPhase {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace
    /// Rows scored between two abort polls.
    static let foldRows = 64

    func run(task: Int, worker: Int, _ pass: PassContext) {
        let (r0, n) = pass.chunk(task)
        guard n > 0 else { return }
        let w = workspace, c = config, scratch = workspace.workers[worker]
        let h = w.x.rows(r0, n).readOnly
        let hn = w.xn.rows(r0, n).columns(0, c.hiddenSize)
        if !pass.gemmsOnly {
            Kernels.rmsNorm(out: hn, h, weight: weights.postNorm, eps: Float(c.rmsNormEps))
        }
        let gate = scratch.gate.rows(0, n), up = scratch.up.rows(0, n)
        // The biggest products of the pass (2 × rows × D × I): stepped, so an abort is seen soon.
        guard Kernels.linear(out: gate, hn.readOnly, weight: weights.gateProj, accumulate: false,
                             scratch: scratch.linear, until: pass.shouldStop),
              Kernels.linear(out: up, hn.readOnly, weight: weights.upProj, accumulate: false,
                             scratch: scratch.linear, until: pass.shouldStop),
              !pass.gemmsOnly else { return }
        let folds = w.queryRows, frames = pass.frames, scores = pass.scores
        for f in 0..<frames.count {
            let fr = frames[f]
            let start = max(r0, fr.start + 1), end = min(r0 + n, fr.start + fr.rows)
            guard start < end else { continue }
            // SiLU over I columns per row costs about as much as a product step per 64 rows:
            // poll between row blocks so this tail is not the longest stretch without a poll.
            var row = start
            while row < end {
                if row > start && pass.shouldStop() { return }
                let count = min(Self.foldRows, end - row), local = row - r0
                Kernels.foldedScores(out: scores.columns(fr.scoreOffset + row - fr.start - 1, count),
                                     h: h.rows(local, count), v: folds.v.readOnly.row(f),
                                     gate: gate.readOnly.rows(local, count), up: up.readOnly.rows(local, count),
                                     u: folds.u.readOnly.row(f), bias: weights.scorerBias)
                row += count
            }
        }
    }
}
