// ReconPruner.swift — one forward pass: [Q; V] → Qwen2.5-VL decoder layer → fused scorer.

/// The model of SPEC §1 over a planned workspace. `score` runs four parallel phases separated
/// by the pool's barriers: (1) rms1 + q/k/v + RoPE per row chunk, (2) attention per KV head and
/// query block, (3) o_proj + MLP per row chunk, (4) the scorer per slice of tokens.
final class ReconPrunerModel {
    let config: PrunerConfig
    let weights: WeightSet
    let layout: ArenaLayout
    let workspace: Workspace

    private let projections: ProjectionPhase
    private let attention: AttentionPhase
    private let mlp: MLPPhase
    private let scorer: ScorerPhase

    init(config: PrunerConfig, weights: WeightSet, layout: ArenaLayout, workspace: Workspace) {
        self.config = config
        self.weights = weights
        self.layout = layout
        self.workspace = workspace
        projections = ProjectionPhase(weights: weights, config: config, workspace: workspace)
        attention = AttentionPhase(config: config, workspace: workspace, queryBlock: layout.queryBlock,
                                   keyBlock: layout.keyBlock)
        mlp = MLPPhase(weights: weights, config: config, workspace: workspace)
        scorer = ScorerPhase(weights: weights, workspace: workspace)
    }

    /// Row 0 of the residual stream is the learned query token.
    func loadQuery() {
        Kernels.copy(out: workspace.x.rows(0, 1), weights.query.asRow)
    }

    /// Writes scores for `rows - 1` tokens, already validated against the config and the
    /// capacity, whose f32 rows are in workspace.x rows 1 ..< rows (row 0: `loadQuery`).
    /// `gemmOnly` runs just the GEMMs of the pass, with the same shapes and split, so that
    /// benchmarks can report the time spent outside GEMM; it writes no scores.
    func score(rows: Int, gridW: Int, scores: MatrixView?, pool: WorkerPool, gemmOnly: Bool = false) {
        let chunks = layout.chunking(rows: rows)
        let frame = FrameGeometry(rows: rows, chunkCount: chunks.count, chunkSize: chunks.size,
                                  gridW: max(gridW, 1), gemmOnly: gemmOnly)
        projections.frame = frame
        attention.frame = frame
        mlp.frame = frame

        pool.run(tasks: frame.chunkCount, projections)
        pool.run(tasks: attention.taskCount(rows: rows), attention)
        pool.run(tasks: frame.chunkCount, mlp)
        guard !gemmOnly, let scores else { return }
        scorer.prepare(tokens: rows - 1, tasks: pool.threadCount, scores: scores)
        pool.run(tasks: pool.threadCount, scorer)
    }
}
