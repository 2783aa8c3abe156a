// ReconPruner.swift — one forward pass: [Q; V] → Qwen2.5-VL decoder layer → Hadamard-fused scorer.

/// The model of SPEC §1 over a planned workspace. `score` runs five parallel phases separated
/// by the pool's barriers: (1) rms1 + q/k/v + RoPE per row chunk, (2) attention per KV head and
/// query block, (3) o_proj per row chunk, (4) the query rows' MLP and the scorer's fold through
/// down_proj, (5) the visual rows' gate/up per row chunk, ending in their scores.
final class ReconPrunerModel {
    let config: PrunerConfig
    let weights: WeightSet
    let layout: ArenaLayout
    let workspace: Workspace
    /// The frames of the current call.
    let frames = FrameList()

    private let projections: ProjectionPhase
    private let attention: AttentionPhase
    private let outputProjection: OutputProjectionPhase
    private let queryRows: QueryRowsPhase
    private let mlp: MLPPhase

    init(config: PrunerConfig, weights: WeightSet, layout: ArenaLayout, workspace: Workspace) {
        self.config = config
        self.weights = weights
        self.layout = layout
        self.workspace = workspace
        projections = ProjectionPhase(weights: weights, config: config, workspace: workspace, frames: frames)
        attention = AttentionPhase(config: config, workspace: workspace, frames: frames,
                                   queryBlock: layout.queryBlock, keyBlock: layout.keyBlock)
        outputProjection = OutputProjectionPhase(weights: weights, workspace: workspace)
        queryRows = QueryRowsPhase(weights: weights, config: config, workspace: workspace, frames: frames)
        mlp = MLPPhase(weights: weights, config: config, workspace: workspace, frames: frames)
    }

    /// Starts a call: no frames.
    func beginFrames() { frames.removeAll() }

    /// Registers the next frame and returns the workspace rows for its tokens (its query row,
    /// the learned query token, is written here). The caller checked capacity.
    func appendFrame(tokens n: Int, gridW: Int) -> MatrixView {
        let start = frames.rows
        frames.append(tokens: n, gridW: gridW, attentionTasks: attention.tasks(rows: n + 1))
        Kernels.copy(out: workspace.x.rows(start, 1), weights.query.asRow)
        return workspace.x.rows(start + 1, n)
    }

    /// Scores every registered frame (tokens already in the workspace) into `scores`.
    /// `gemmOnly` runs just the GEMMs of the pass, with the same shapes and split, so that
    /// benchmarks can report the time spent outside GEMM; it writes no scores.
    func score(scores: MatrixView?, pool: WorkerPool, gemmOnly: Bool = false) {
        let rows = frames.rows
        let chunks = layout.chunking(rows: rows)
        let frame = FrameGeometry(rows: rows, chunkCount: chunks.count, chunkSize: chunks.size, gemmOnly: gemmOnly)
        projections.frame = frame
        attention.gemmOnly = gemmOnly
        outputProjection.frame = frame
        mlp.frame = frame
        mlp.scores = gemmOnly ? nil : scores

        pool.run(tasks: frame.chunkCount, projections)
        pool.run(tasks: frames.attentionTasks, attention)
        pool.run(tasks: frame.chunkCount, outputProjection)
        queryRows.prepare(tasks: pool.threadCount, gemmOnly: gemmOnly)
        queryRows.step = .gateUp
        pool.run(tasks: pool.threadCount, queryRows)
        queryRows.step = .down
        pool.run(tasks: pool.threadCount, queryRows)
        queryRows.step = .fold
        pool.run(tasks: pool.threadCount, queryRows)
        pool.run(tasks: frame.chunkCount, mlp)
    }
}
