// Workspace.swift — every named buffer of the forward pass, carved from the plan in one place.

/// Views of the pass's scratch, carved once at create (rows include the query tokens;
/// per-worker buffers are indexed by the pool's worker id). The same `init` sizes the arena:
/// Core/HandleScratch.swift runs it against a measuring arena first, so the size and the carving
/// cannot disagree. Where two names share storage, the carving below says so and why.
struct Workspace: @unchecked Sendable {
    /// Residual stream: X = [Q; V], then h after attention, then (query rows) H.
    let x: MatrixView
    /// RMSNorm output, for the projections and then the visual rows' MLP.
    let xn: MatrixView
    let q: MatrixView, k: MatrixView, v: MatrixView
    /// The attention output (rows × heads·hd).
    let attention: MatrixView
    /// cos/sin of every position 0 ... maxTokens (filled by `fillTables`).
    let ropeCos: MatrixView, ropeSin: MatrixView
    /// Each row's share of m·u per MLP column slice (rows × MLPPhase.slices).
    let mlpShares: MatrixView
    /// rms2(h) of every row in the form the MLP's kernel reads (bf16 pairs, quantized u8; empty
    /// for f32), converted once per row chunk rather than once per column slice.
    let mlpInput: LinearScratch
    /// The query rows' MLP and the scorer's fold (QueryRowsPhase), one row per frame.
    let queryRows: QueryRowsScratch
    let workers: [WorkerScratch]

    struct QueryRowsScratch {
        /// Each frame's query row: h, then H after the down projection adds to it.
        let h: MatrixView
        /// rms2(h).
        let rms2: MatrixView
        /// silu(gate) ⊙ up, in place of the gate projection.
        let gate: MatrixView
        /// The up projection.
        let up: MatrixView
        /// v = H ⊙ w_s.
        let v: MatrixView
        /// u = W_downᵀ·v.
        let u: MatrixView
    }

    struct WorkerScratch {
        /// A KV head's query heads stacked (group·queryBlock rows × headDim), their logits
        /// against one key block, the running output and the online-softmax statistics.
        let stackedQ: MatrixView
        let logits: MatrixView
        let output: MatrixView
        let rowMax: MatrixView
        let rowSum: MatrixView
        /// One MLP task's gate and up projections (a chunk's rows × one column slice).
        let gate: MatrixView
        let up: MatrixView
        /// One chunk's rows in the form the compute type's matrix kernel reads (Kernels/Linear.swift).
        let linear: LinearScratch
        /// Attention's operands in bf16, when attention runs in bf16 (nil otherwise).
        let bf16Attention: BF16AttentionScratch?
    }

    /// A worker's bf16 attention operands: its stacked queries, one key block and one value
    /// block packed as weights, and the block's probabilities.
    struct BF16AttentionScratch {
        let query: PackedBF16Rows
        let keys: PackedBF16Rows
        let values: PackedBF16Rows
        let probabilities: PackedBF16Rows
    }

    /// Carves every buffer for `plan` from `arena`. Writes nothing, so it can run against a
    /// measuring arena; `fillTables` initialises the one precomputed buffer afterwards.
    init(carving arena: inout Arena, plan: ForwardPlan) throws(PrunerError) {
        let c = plan.config, rows = plan.maxRows
        let d = c.hiddenSize, qw = c.heads * c.headDim, kvw = c.kvHeads * c.headDim, inter = c.intermediateSize
        func matrix(_ r: Int, _ cols: Int) throws(PrunerError) -> MatrixView {
            let (count, overflow) = r.multipliedReportingOverflow(by: cols)
            guard !overflow else { throw .outOfMemory("scratch plan overflows") }
            return MatrixView(base: try arena.floats(count), rows: r, cols: cols)
        }
        func packedRows(_ elements: Int) throws(PrunerError) -> PackedBF16Rows {
            PackedBF16Rows(base: try arena.uint16s(elements), capacity: elements)
        }
        x = try matrix(rows, d)
        // The attention output takes the norm buffer: xn is dead once q/k/v exist, and the MLP
        // phase normalises into it again only after o_proj has read the attention output.
        xn = try matrix(rows, max(d, qw))
        attention = xn.columns(0, qw)
        q = try matrix(rows, qw)
        k = try matrix(rows, kvw)
        v = try matrix(rows, kvw)
        mlpShares = try matrix(rows, MLPPhase.slices(c))
        mlpInput = try Kernels.linearScratch(plan.compute, rows: rows, cols: d, from: &arena)
        ropeCos = try matrix(rows, c.headDim / 2)
        ropeSin = try matrix(rows, c.headDim / 2)
        let frames = plan.queryRows
        let h = try matrix(frames, d), rms2 = try matrix(frames, d)
        let gate = try matrix(frames, inter), up = try matrix(frames, inter)
        // v takes rms2's storage (dead once gate/up have read it), u takes up's (dead once
        // SwiGLU has folded it into gate).
        queryRows = QueryRowsScratch(h: h, rms2: rms2, gate: gate, up: up, v: rms2, u: up)
        let stacked = plan.stackedQueryRows
        var workers: [WorkerScratch] = []
        for _ in 0..<plan.threads {
            workers.append(WorkerScratch(
                stackedQ: try matrix(stacked, c.headDim),
                logits: try matrix(stacked, plan.keyBlock),
                output: try matrix(stacked, c.headDim),
                rowMax: try matrix(1, stacked),
                rowSum: try matrix(1, stacked),
                gate: try matrix(plan.chunkRows, min(inter, MLPPhase.sliceColumns)),
                up: try matrix(plan.chunkRows, min(inter, MLPPhase.sliceColumns)),
                linear: try Kernels.linearScratch(plan.compute, rows: plan.chunkRows, cols: plan.widestLinearInput, from: &arena),
                bf16Attention: plan.attentionInBF16 ? BF16AttentionScratch(
                    query: try packedRows(Kernels.packedBF16RowElements(rows: stacked, cols: c.headDim)),
                    keys: try packedRows(Kernels.packedBF16Elements(rows: plan.keyBlock, cols: c.headDim)),
                    values: try packedRows(Kernels.packedBF16Elements(rows: c.headDim, cols: plan.keyBlock)),
                    probabilities: try packedRows(Kernels.packedBF16RowElements(rows: stacked, cols: plan.keyBlock))) : nil))
        }
        self.workers = workers
    }

    /// Computes the RoPE tables (positions 0 ... maxTokens) into the carved buffers.
    func fillTables(_ config: PrunerConfig) {
        Kernels.ropeTables(cosTable: ropeCos, sinTable: ropeSin, theta: config.ropeTheta, headDim: config.headDim)
    }
}
