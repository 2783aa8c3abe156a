// ReconPrunerModel.swift — one forward pass: [Q; V] → Qwen2.5-VL decoder layer → Hadamard-fused scorer.

/// The model of docs/model.md over a planned workspace. A call stages its frames (`beginCall`,
/// `stage`), then `score` runs them through one pass (ForwardPass). Capacity and shapes are the
/// caller's checks (Core/Pruner.swift); this type owns the staging rows and the pass.
final class ReconPrunerModel {
    let config: PrunerConfig
    let weights: WeightSet
    let plan: ForwardPlan
    let workspace: Workspace
    /// The frames of the current call.
    private let frames = FrameList()
    private let pass: ForwardPass
    /// The handle's abort state, polled by every task of the pass.
    let abort: AbortSignal

    init(config: PrunerConfig, weights: WeightSet, plan: ForwardPlan, workspace: Workspace, abort: AbortSignal) {
        self.abort = abort
        self.config = config
        self.weights = weights
        self.plan = plan
        self.workspace = workspace
        pass = ForwardPass(config: config, weights: weights, plan: plan, workspace: workspace)
    }

    /// Starts a call: no frames.
    func beginCall() { frames.removeAll() }

    /// Frames, rows (tokens + one query row per frame) and tokens staged so far.
    var stagedFrames: Int { frames.count }
    var stagedRows: Int { frames.rows }
    var stagedTokens: Int { frames.tokens }

    /// Stages the next frame after the previous ones: its copy of the query token, then its
    /// tokens converted to f32. Returns the (row, column) of the first NaN/Inf token value, or
    /// nil (also when the call was aborted while converting: `abort` says so). The caller
    /// checked that the frame fits the plan.
    func stage(_ t: TokenView) -> (row: Int, col: Int)? {
        let start = frames.rows
        frames.append(tokens: t.n, gridW: t.gridW, attentionTasks: pass.attentionTasks(rows: t.n + 1))
        Kernels.copy(out: workspace.x.rows(start, 1), weights.query.asRow)
        return Kernels.convertToF32(out: workspace.x.rows(start + 1, t.n).columns(0, t.dim), tokens: t,
                                    until: abort.shouldStop)
    }

    /// Scores every staged frame into `scores` (1 × stagedTokens): one pass on `pool`. False
    /// when the call was aborted (`scores` then holds partial values).
    func score(into scores: MatrixView, pool: WorkerPool) -> Bool {
        pass.run(context(scores: scores, pool: pool), pool: pool)
    }

#if FASTDRIVE_BENCH_HOOKS
    /// Benchmarks only: the matrix products of a pass over one frame of `n` tokens, with the
    /// shapes and thread split of `score`, and nothing else. `scores` receives nothing.
    func runGEMMsOnly(tokens n: Int, scores: MatrixView, pool: WorkerPool) {
        beginCall()
        frames.append(tokens: n, gridW: 1, attentionTasks: pass.attentionTasks(rows: n + 1))
        _ = pass.run(context(scores: scores, pool: pool, gemmsOnly: true), pool: pool)
    }
#endif

    private func context(scores: MatrixView, pool: WorkerPool, gemmsOnly: Bool = false) -> PassContext {
        let rows = frames.rows, chunks = plan.chunking(rows: rows)
#if FASTDRIVE_BENCH_HOOKS
        return PassContext(frames: frames, abort: abort, rows: rows, chunkCount: chunks.count, chunkSize: chunks.size,
                           columnTasks: pool.threadCount, scores: scores, gemmsOnly: gemmsOnly)
#else
        return PassContext(frames: frames, abort: abort, rows: rows, chunkCount: chunks.count, chunkSize: chunks.size,
                           columnTasks: pool.threadCount, scores: scores)
#endif
    }
}
