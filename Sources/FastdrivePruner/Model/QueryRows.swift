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
final class QueryRowsPhase: ParallelJob {
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
    let frames: FrameList
    var step = Step.gateUp
    private var gemmOnly = false
    private var tasks = 1

    init(weights: WeightSet, config: PrunerConfig, workspace: Workspace, frames: FrameList) {
        self.weights = weights
        self.config = config
        self.workspace = workspace
        self.frames = frames
    }

    /// Gathers each frame's query row of h and normalises it (F × D, on the calling thread).
    func prepare(tasks: Int, gemmOnly: Bool) {
        self.tasks = tasks
        self.gemmOnly = gemmOnly
        let s = workspace.queryRows, f = frames.count
        guard !gemmOnly else { return }
        for i in 0..<f {
            Kernels.copy(out: s.h.rows(i, 1), workspace.x.readOnly.rows(frames[i].start, 1))
        }
        Kernels.rmsNorm(out: s.normalized.rows(0, f), s.h.rows(0, f).readOnly, weight: weights.postNorm,
                        eps: Float(config.rmsNormEps))
    }

    func run(task: Int, worker: Int) {
        let s = workspace.queryRows, f = frames.count
        switch step {
        case .gateUp:
            let (c0, n) = slice(task, of: config.intermediateSize)
            guard n > 0 else { return }
            let gate = s.gate.rows(0, f).columns(c0, n), up = s.up.rows(0, f).columns(c0, n)
            let input = s.normalized.rows(0, f).readOnly
            Kernels.linear(out: gate, input, weight: weights.gateProj.rows(c0, n), accumulate: false, scratch: packed(worker))
            Kernels.linear(out: up, input, weight: weights.upProj.rows(c0, n), accumulate: false, scratch: packed(worker))
            if !gemmOnly { Kernels.swiglu(gate: gate, up: up.readOnly) }
        case .down:
            let (c0, n) = slice(task, of: config.hiddenSize)
            guard n > 0 else { return }
            let h = s.h.rows(0, f).columns(c0, n)
            Kernels.linear(out: h, s.gate.rows(0, f).readOnly, weight: weights.downProj.rows(c0, n), accumulate: true,
                           scratch: packed(worker))
            if !gemmOnly {
                Kernels.scaleColumns(out: s.fused.rows(0, f).columns(c0, n), h.readOnly, by: weights.scorer.elements(c0, n))
            }
        case .fold:
            let (c0, n) = slice(task, of: config.intermediateSize)
            guard n > 0 else { return }
            Kernels.matmul(out: s.folded.rows(0, f).columns(c0, n), s.fused.rows(0, f).readOnly,
                           weights.downProjF32.columns(c0, n))
        }
    }

    private func packed(_ worker: Int) -> PackedBF16Rows? { workspace.workers[worker].bf16Rows }

    /// Columns [start, start + count) of `total` for `task`: whole packed-weight panels (32
    /// columns, which also keeps workers off each other's cache lines).
    private func slice(_ task: Int, of total: Int) -> (start: Int, count: Int) {
        let panel = LinearWeight.panelRows
        let per = ((total + tasks - 1) / tasks + panel - 1) / panel * panel
        let start = min(total, task * per)
        return (start, min(per, total - start))
    }
}
