// Projections.swift — phase 1: rms1, q/k/v projections with biases, RoPE, per row chunk.

/// For rows [r0, r0+n): xn = rms1(x); q/k/v = xn·Wᵀ + b; RoPE on q and k.
struct ProjectionPhase {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace

    func run(task: Int, worker: Int, _ pass: PassContext) {
        let (r0, n) = pass.chunk(task)
        guard n > 0 else { return }
        let w = workspace, c = config
        let xn = w.xn.rows(r0, n).columns(0, c.hiddenSize)
        if !pass.gemmsOnly {
            Kernels.rmsNorm(out: xn, w.x.rows(r0, n).readOnly, weight: weights.inputNorm, eps: Float(c.rmsNormEps))
        }
        // y = xn·Wᵀ + b: the bias is pre-loaded and the GEMM accumulates onto it.
        let scratch = w.workers[worker].linear
        func project(_ out: MatrixView, _ weight: LinearWeight, _ bias: VectorView) -> Bool {
            if !pass.gemmsOnly { Kernels.broadcastRows(out: out.rows(r0, n), bias) }
            return Kernels.linear(out: out.rows(r0, n), xn.readOnly, weight: weight, accumulate: true,
                                  scratch: scratch, until: pass.shouldStop)
        }
        guard project(w.q, weights.qProj, weights.qBias), !pass.shouldStop(),
              project(w.k, weights.kProj, weights.kBias), !pass.shouldStop(),
              project(w.v, weights.vProj, weights.vBias),
              !pass.gemmsOnly, c.rope != .none else { return }
        // Positions count from each frame's own query row: rotate frame by frame.
        let frames = pass.frames
        for f in 0..<frames.count {
            let fr = frames[f]
            let start = max(r0, fr.start), end = min(r0 + n, fr.start + fr.rows)
            guard start < end else { continue }
            rope(w.q.rows(start, end - start), row0: start - fr.start, gridW: fr.gridW, heads: c.heads)
            rope(w.k.rows(start, end - start), row0: start - fr.start, gridW: fr.gridW, heads: c.kvHeads)
        }
    }

    /// The positions of docs/model.md: 1d puts row r at r; mrope puts the query at (0,0,0) and
    /// token i at (1, 1 + i / grid_w, 1 + i % grid_w), each frequency pair taking its section's axis.
    private func rope(_ x: MatrixView, row0: Int, gridW: Int, heads: Int) {
        let c = config
        Kernels.rope(x, row0: row0, heads: heads, headDim: c.headDim, cosTable: workspace.ropeCos.readOnly,
                     sinTable: workspace.ropeSin.readOnly, mode: c.rope, gridW: gridW,
                     sections: (c.mropeSection[0], c.mropeSection[1]))
    }
}
