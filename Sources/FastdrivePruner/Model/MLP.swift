// MLP.swift — phases 5 and 6: the visual rows' MLP in column slices, then their scores.

/// For rows [r0, r0+n) of a chunk and one slice of `sliceColumns` intermediate columns: gate/up
/// of rms2(h) (normalised by OutputProjectionPhase), then each visual row's share of m·u over
/// the slice, m = silu(gate) ⊙ up and u from QueryRowsPhase (the scorer folded through
/// down_proj, so the rows' down projection and H are never computed). Phase 6 adds the shares
/// in slice order: S_i = h_i·v + Σ_s share_s + b, whichever worker computed which share.
///
/// Why slices: a task then reads 1/slices of each weight, so a small frame (one chunk per
/// worker) still has dozens of tasks for the pool to balance, and a worker slowed by another
/// process on its core no longer holds the whole phase back. A slice is two steps of the
/// stepped products (abort polls between them and at every task's start), and its share of the
/// SiLU fold is 512 columns per row, a fraction of a step, so no stretch between polls grows.
/// Not one step per slice: a task's products would have fewer columns to share a call's fixed
/// costs. The chunk's rows are converted for the int8/bf16 kernels once, in phase 3. Query rows
/// in a chunk are skipped (QueryRowsPhase did them). Each worker owns one slice's gate/up buffers.
struct MLPPhase {
    let weights: WeightSet
    let config: PrunerConfig
    let workspace: Workspace

    /// Intermediate columns per task: two steps of the stepped products (a multiple of the
    /// packed panels), the same whatever the thread count, so results do not depend on it.
    static let sliceColumns = 2 * Kernels.columnsPerStep

    /// Slices of the intermediate dimension (tasks per row chunk).
    static func slices(_ config: PrunerConfig) -> Int {
        (config.intermediateSize + sliceColumns - 1) / sliceColumns
    }

    /// Phase 5 tasks of a pass with `chunks` row chunks.
    func tasks(chunks: Int) -> Int { chunks * Self.slices(config) }

    func run(task: Int, worker: Int, _ pass: PassContext) {
        let slices = Self.slices(config)
        let (r0, n) = pass.chunk(task / slices)
        guard n > 0 else { return }
        let slice = task % slices, c0 = slice * Self.sliceColumns
        let cols = min(Self.sliceColumns, config.intermediateSize - c0)
        let w = workspace, scratch = workspace.workers[worker]
        let hn = w.xn.rows(r0, n).columns(0, config.hiddenSize).readOnly
        let gate = scratch.gate.rows(0, n).columns(0, cols), up = scratch.up.rows(0, n).columns(0, cols)
        let converted = w.mlpInput.rows(from: r0, cols: config.hiddenSize)  // by OutputProjectionPhase
        guard Kernels.linear(out: gate, converted: hn, weight: weights.gateProj.rows(c0, cols), accumulate: false,
                             scratch: converted, until: pass.shouldStop),
              !pass.shouldStop(),  // one product step between two polls, whatever the compute type
              Kernels.linear(out: up, converted: hn, weight: weights.upProj.rows(c0, cols), accumulate: false,
                             scratch: converted, until: pass.shouldStop),
              !pass.gemmsOnly else { return }
        let folds = w.queryRows, frames = pass.frames
        for f in 0..<frames.count {
            let fr = frames[f]
            let start = max(r0, fr.start + 1), end = min(r0 + n, fr.start + fr.rows)
            guard start < end else { continue }
            let count = end - start, local = start - r0
            Kernels.swigluDots(out: w.mlpShares.rows(start, count).columns(slice, 1),
                               gate: gate.readOnly.rows(local, count), up: up.readOnly.rows(local, count),
                               u: folds.u.readOnly.row(f).elements(c0, cols))
        }
    }

    /// Phase 6, per row chunk: the visual rows' scores from their slices' shares.
    func score(task: Int, _ pass: PassContext) {
        let (r0, n) = pass.chunk(task)
        guard n > 0, !pass.gemmsOnly else { return }
        let w = workspace, folds = w.queryRows, frames = pass.frames, scores = pass.scores
        let slices = Self.slices(config)
        for f in 0..<frames.count {
            let fr = frames[f]
            let start = max(r0, fr.start + 1), end = min(r0 + n, fr.start + fr.rows)
            guard start < end else { continue }
            let count = end - start
            Kernels.foldedScores(out: scores.columns(fr.scoreOffset + start - fr.start - 1, count),
                                 h: w.x.readOnly.rows(start, count), v: folds.v.readOnly.row(f),
                                 parts: w.mlpShares.readOnly.rows(start, count).columns(0, slices),
                                 bias: weights.scorerBias)
        }
    }
}
