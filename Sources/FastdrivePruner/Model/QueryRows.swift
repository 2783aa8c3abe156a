// QueryRows.swift — phase 4: each frame's query row through the MLP, and the scorer's fold.

/// The scorer reads every token's H_i only through S_i = (H_i ⊙ hq)·w_s + b, and H_i is
/// h_i + W_down·m_i, so S_i = h_i·v + m_i·u + b with v = hq ⊙ w_s and u = W_downᵀ·v (MLP.swift
/// applies it). That needs hq, the query row's full layer output, before the visual rows'
/// MLP: this phase computes it for the F query rows of a call (one per frame), then v and u.
///
/// F is small, so each step splits the weights' output columns over the workers rather than
/// rows, in three steps with the pool's barrier between them (`prepare` runs first, on the
/// calling thread). These are GEMVs bound by reading the weights: gate/up/down use the packed
/// bf16 copies when compute = bf16 (half the bytes); the fold reads W_down transposed, which
/// the packed layout does not serve, so it stays f32.
struct QueryRowsPhase {
    enum Step {
        /// m = silu(rms2(h)·W_gateᵀ) ⊙ rms2(h)·W_upᵀ, split over intermediate columns.
        case gateUp
        /// H = h + m·W_downᵀ and v = H ⊙ w_s, split over hidden columns.
        case down
        /// u = v·W_down, split over intermediate columns.
        case fold
    }

    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace

    /// Gathers each frame's query row of h and normalises it (F × D, on the calling thread).
    func prepare(_ pass: PassContext) {
        let s = workspace.queryRows, frames = pass.frames, f = frames.count
        guard !pass.gemmsOnly else { return }
        for i in 0..<f {
            Kernels.copy(out: s.h.rows(i, 1), workspace.x.readOnly.rows(frames[i].start, 1))
        }
        Kernels.rmsNorm(out: s.rms2.rows(0, f), s.h.rows(0, f).readOnly, weight: weights.postNorm,
                        eps: Float(config.rmsNormEps))
    }

    func run(_ step: Step, task: Int, worker: Int, _ pass: PassContext) {
        let s = workspace.queryRows, f = pass.frames.count
        let scratch = workspace.workers[worker].linear
        switch step {
        case .gateUp:
            let (c0, n) = slice(task, of: config.intermediateSize, tasks: pass.columnTasks)
            guard n > 0 else { return }
            let gate = s.gate.rows(0, f).columns(c0, n), up = s.up.rows(0, f).columns(c0, n)
            let input = s.rms2.rows(0, f).readOnly
            // Few rows but whole weights: memory-bound, tens of ms on one thread. Stepped.
            guard Kernels.linear(out: gate, input, weight: weights.gateProj.rows(c0, n), accumulate: false,
                                 scratch: scratch, until: pass.shouldStop),
                  Kernels.linear(out: up, input, weight: weights.upProj.rows(c0, n), accumulate: false,
                                 scratch: scratch, until: pass.shouldStop) else { return }
            if !pass.gemmsOnly { Kernels.swiglu(gate: gate, up: up.readOnly) }
        case .down:
            let (c0, n) = slice(task, of: config.hiddenSize, tasks: pass.columnTasks)
            guard n > 0 else { return }
            let h = s.h.rows(0, f).columns(c0, n)
            guard Kernels.linear(out: h, s.gate.rows(0, f).readOnly, weight: weights.downProj.rows(c0, n),
                                 accumulate: true, scratch: scratch, until: pass.shouldStop) else { return }
            if !pass.gemmsOnly {
                Kernels.scaleColumns(out: s.v.rows(0, f).columns(c0, n), h.readOnly, by: weights.scorer.elements(c0, n))
            }
        case .fold:
            let (c0, n) = slice(task, of: config.intermediateSize, tasks: pass.columnTasks)
            guard n > 0 else { return }
            // Reads a [D × n] block of W_down (tens of MB): in steps, polling between them.
            var done = 0
            while done < n, !pass.shouldStop() {
                let count = min(Kernels.columnsPerStep, n - done)
                Kernels.matmul(out: s.u.rows(0, f).columns(c0 + done, count), s.v.rows(0, f).readOnly,
                               weights.downProjF32.columns(c0 + done, count))
                done += count
            }
        }
    }

    /// Columns [start, start + count) of `total` for `task` of `tasks`: whole steps of the stepped
    /// products (`Kernels.columnsPerStep`, a multiple of the packed panels' 32). Every such block is then
    /// one product of the same shape whatever the thread count, so results do not depend on it
    /// (OpenBLAS gives a one-row product a last-bit different result for a narrower block).
    private func slice(_ task: Int, of total: Int, tasks: Int) -> (start: Int, count: Int) {
        let panel = Kernels.columnsPerStep
        let per = ((total + tasks - 1) / tasks + panel - 1) / panel * panel
        let start = min(total, task * per)
        return (start, min(per, total - start))
    }
}
