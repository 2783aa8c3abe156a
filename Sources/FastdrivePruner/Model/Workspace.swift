// Workspace.swift — the arena carved into the named buffers of one forward pass.

/// Views of every scratch buffer, laid out once at create from `ArenaLayout`. Rows include the
/// query token (row 0). Per-worker buffers are indexed by the pool's worker id.
struct Workspace: @unchecked Sendable {
    /// Residual stream: X = [Q; V], then h after attention, then H after the MLP.
    let x: MatrixView
    /// RMSNorm output; the attention output reuses it (xn is dead once q/k/v exist).
    let xn: MatrixView
    let q: MatrixView, k: MatrixView, v: MatrixView
    /// cos/sin of every position 0 ... maxTokens, computed at create.
    let ropeCos: MatrixView, ropeSin: MatrixView
    /// The query rows' MLP and the scorer's fold (QueryRowsPhase), one row per frame.
    let queryRows: QueryRowsScratch
    let workers: [WorkerScratch]
    /// fastdrive_select's buffers (its token rows are x and xn).
    let selection: SelectionScratch

    /// The attention output (rows × heads·hd), in the xn buffer.
    var attention: MatrixView { xn.columns(0, q.cols) }

    struct QueryRowsScratch {
        /// Each frame's query row: h, then H after the down projection.
        let h: MatrixView
        /// rms2(h); once gate/up have read it, v = H ⊙ w_s (`fused`).
        let normalized: MatrixView
        /// silu(gate) ⊙ up, in place in the gate projection.
        let gate: MatrixView
        /// The up projection; once consumed, u = W_downᵀ·v (`folded`).
        let up: MatrixView

        var fused: MatrixView { normalized }
        var folded: MatrixView { up }
    }

    struct WorkerScratch {
        /// A KV head's query heads stacked (group·queryBlock rows × headDim), their logits
        /// against one key block, the running output and the online-softmax statistics.
        let stackedQ: MatrixView
        let logits: MatrixView
        let output: MatrixView
        let rowMax: MatrixView
        let rowSum: MatrixView
        /// One MLP chunk's gate and up projections.
        let gate: MatrixView
        let up: MatrixView
        /// compute = bf16: the chunk's GEMM input converted to bf16 pairs, and the attention
        /// operands (nil in f32).
        let bf16Rows: PackedBF16Rows?
        let bf16Attention: BF16AttentionScratch?
    }

    init(arena: inout Arena, layout: ArenaLayout) throws(PrunerError) {
        let c = layout.config, rows = layout.maxRows
        let d = c.hiddenSize, qw = c.heads * c.headDim, kvw = c.kvHeads * c.headDim, half = c.headDim / 2
        func matrix(_ r: Int, _ cols: Int) throws(PrunerError) -> MatrixView {
            MatrixView(base: try arena.floats(r * cols), rows: r, cols: cols)
        }
        func packedRows(_ floats: Int) throws(PrunerError) -> PackedBF16Rows {
            let raw = UnsafeMutableRawPointer(try arena.floats(floats))
            return PackedBF16Rows(base: raw.bindMemory(to: UInt16.self, capacity: 2 * floats), capacity: 2 * floats)
        }
        func attentionScratch(_ floats: [Int]) throws(PrunerError) -> BF16AttentionScratch {
            BF16AttentionScratch(query: try packedRows(floats[0]), keys: try packedRows(floats[1]),
                                 values: try packedRows(floats[2]), probabilities: try packedRows(floats[3]))
        }
        // Same order as ArenaLayout.buffers.
        x = try matrix(rows, d)
        xn = try matrix(rows, max(d, qw))
        q = try matrix(rows, qw)
        k = try matrix(rows, kvw)
        v = try matrix(rows, kvw)
        ropeCos = try matrix(rows, half)
        ropeSin = try matrix(rows, half)
        let frames = layout.queryRows, inter = c.intermediateSize
        queryRows = QueryRowsScratch(h: try matrix(frames, d), normalized: try matrix(frames, d),
                                     gate: try matrix(frames, inter), up: try matrix(frames, inter))
        let stacked = (c.heads / c.kvHeads) * layout.queryBlock
        var workers: [WorkerScratch] = []
        for _ in 0..<layout.threads {
            workers.append(WorkerScratch(
                stackedQ: try matrix(stacked, c.headDim),
                logits: try matrix(stacked, layout.keyBlock),
                output: try matrix(stacked, c.headDim),
                rowMax: try matrix(1, stacked),
                rowSum: try matrix(1, stacked),
                gate: try matrix(layout.chunkRows, c.intermediateSize),
                up: try matrix(layout.chunkRows, c.intermediateSize),
                bf16Rows: layout.compute == .bf16 ? try packedRows(layout.bf16RowFloats) : nil,
                bf16Attention: layout.compute == .bf16 ? try attentionScratch(layout.bf16AttentionFloats) : nil))
        }
        self.workers = workers
        // Same order as ArenaLayout.buffers: scores, values, best, indices, similarity.
        let m = layout.maxRows - 1
        let scores = ScratchVector(base: try arena.floats(m), count: m)
        let values = ScratchVector(base: try arena.floats(m), count: m)
        let partialBest = try matrix(layout.threads, m)
        let indices = UnsafeMutableRawPointer(try arena.floats(8 * m)).bindMemory(to: Int64.self, capacity: 4 * m)
        let side = SelectionScratch.similarityFloats(maxTokens: m) == 0 ? 0 : m
        let similarity = try matrix(side, side)
        selection = SelectionScratch(
            tokens: x, gathered: xn.reshaped(rows: rows, cols: d), scores: scores, values: values, partialBest: partialBest,
            order: IndexBuffer(base: indices, count: m), residual: IndexBuffer(base: indices + m, count: m),
            next: IndexBuffer(base: indices + 2 * m, count: m), rank: IndexBuffer(base: indices + 3 * m, count: m),
            similarity: side == 0 ? nil : similarity)
        Kernels.ropeTables(cosTable: ropeCos, sinTable: ropeSin, theta: c.ropeTheta, headDim: c.headDim)
    }
}
