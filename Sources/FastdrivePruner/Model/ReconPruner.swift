// ReconPruner.swift — one forward pass: [Q; V] → Qwen2.5-VL decoder layer → fused scorer.

/// The model of SPEC §1 over a planned workspace. `score` runs four parallel phases separated
/// by the pool's barriers: (1) rms1 + q/k/v + RoPE per row chunk, (2) attention per KV head and
/// query block, (3) o_proj + MLP per row chunk, (4) the scorer per row chunk.
struct ReconPrunerModel {
    let config: PrunerConfig
    let weights: WeightSet
    let layout: ArenaLayout
    let workspace: Workspace

    /// Writes scores for `rows - 1` tokens, already validated against the config and the
    /// capacity, whose f32 rows are in workspace.x rows 1 ..< rows (row 0: `loadQuery`).
    /// `gemmOnly` runs just the GEMMs of the pass, with the same shapes and split, so that
    /// benchmarks can report the time spent outside GEMM; its scores are meaningless.
    func score(rows: Int, gridW: Int, scores: MatrixView?, pool: WorkerPool, gemmOnly: Bool = false) {
        let w = workspace, c = config
        let chunks = layout.chunking(rows: rows)
        func chunk(_ i: Int) -> (start: Int, count: Int) {
            let start = i * chunks.size
            return (start, min(chunks.size, rows - start))
        }
        let positions = RoPEPositions(mode: c.rope, gridW: gridW, headDim: c.headDim,
                                      sections: (c.mropeSection[0], c.mropeSection[1]),
                                      cosTable: w.ropeCos.readOnly, sinTable: w.ropeSin.readOnly)
        let projection = ProjectionChunk(weights: weights, config: c, gemmOnly: gemmOnly)
        pool.run(tasks: chunks.count) { task, _ in
            let (r0, n) = chunk(task)
            guard n > 0 else { return }
            projection.run(rows: r0, count: n, x: w.x, normed: w.xn, q: w.q, k: w.k, v: w.v, rope: positions)
        }

        let attention = AttentionTask(config: c, queryBlock: layout.queryBlock, keyBlock: layout.keyBlock,
                                      gemmOnly: gemmOnly)
        let attnOut = w.xn.columns(0, c.heads * c.headDim)
        pool.run(tasks: attention.taskCount(rows: rows)) { task, worker in
            attention.run(task: task, rows: rows, q: w.q.readOnly, k: w.k.readOnly, v: w.v.readOnly,
                          out: attnOut, scratch: w.workers[worker])
        }

        let mlp = MLPChunk(weights: weights, eps: Float(c.rmsNormEps), gemmOnly: gemmOnly)
        pool.run(tasks: chunks.count) { task, worker in
            let (r0, n) = chunk(task)
            guard n > 0 else { return }
            mlp.run(rows: r0, count: n, x: w.x, attention: attnOut, normed: w.xn.columns(0, c.hiddenSize),
                    scratch: w.workers[worker])
        }

        guard !gemmOnly, let scores else { return }
        let scorer = Scorer(weights: weights)
        scorer.prepare(fused: w.fused, h: w.x.readOnly)
        let tokens = rows - 1
        let perTask = (tokens + pool.threadCount - 1) / pool.threadCount
        pool.run(tasks: pool.threadCount) { task, _ in
            let t0 = task * perTask
            guard t0 < tokens else { return }
            scorer.run(tokens: t0, count: min(perTask, tokens - t0), h: w.x.readOnly, fused: w.fused.readOnly,
                       scores: scores)
        }
    }

    /// Row 0 of the residual stream is the learned query token.
    func loadQuery() {
        Kernels.copy(out: workspace.x.rows(0, 1), weights.query.asRow)
    }
}
