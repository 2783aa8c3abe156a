// ArenaLayout.swift — the worst-case plan of every scratch buffer for `maxTokens` tokens.

/// Sizes of all scratch buffers for a config, a token capacity and a thread count, decided
/// once at create (ggml's "reserve with a worst-case graph"). Rows include the query token.
struct ArenaLayout {
    /// Query rows per attention task and key rows per online-softmax step.
    let queryBlock: Int
    let keyBlock: Int
    /// Rows of one MLP chunk (each worker owns one chunk's gate/up buffers).
    let chunkRows: Int
    let maxRows: Int
    let threads: Int
    let config: PrunerConfig
    /// With compute = bf16, each worker converts its chunk's rows to bf16 before a GEMM.
    let compute: ElementType

    /// Largest row chunk of the row-parallel phases: bounds the MLP scratch.
    static let maxChunkRows = 384
    static let keyBlockRows = 512

    init(config: PrunerConfig, maxTokens: Int, threads: Int, compute: ElementType = .f32) {
        self.config = config
        self.threads = threads
        self.compute = compute
        maxRows = maxTokens + 1
        let group = config.heads / config.kvHeads
        // Stack a KV head's query heads so the QKᵀ GEMM has ~1024 rows whatever the GQA ratio.
        queryBlock = min(maxRows, max(32, 1024 / group))
        keyBlock = min(maxRows, Self.keyBlockRows)
        chunkRows = min(maxRows, Self.maxChunkRows)
    }

    /// Query rows one call can have: one per frame, each frame at least 2 rows.
    var queryRows: Int { max(1, min(FrameList.capacity, maxRows / 2)) }

    /// Splits `rows` into equal chunks, a multiple of the thread count, each <= maxChunkRows.
    func chunking(rows: Int) -> (count: Int, size: Int) {
        let perRound = threads * Self.maxChunkRows
        let count = threads * ((rows + perRound - 1) / perRound)
        let size = (rows + count - 1) / count
        return (min(count, rows), size)
    }

    /// Floats holding one chunk of rows packed as bf16 pairs, for the widest GEMM input.
    var bf16RowFloats: Int {
        let widest = max(config.hiddenSize, config.intermediateSize, config.heads * config.headDim)
        return (Kernels.packedBF16RowElements(rows: chunkRows, cols: widest) + 1) / 2
    }

    /// Floats of a worker's bf16 attention operands: stacked queries, a key block and a value
    /// block (packed as weights), and the block's probabilities.
    var bf16AttentionFloats: [Int] {
        let hd = config.headDim, stacked = (config.heads / config.kvHeads) * queryBlock
        return [Kernels.packedBF16RowElements(rows: stacked, cols: hd),
                Kernels.packedBF16Elements(rows: keyBlock, cols: hd),
                Kernels.packedBF16Elements(rows: hd, cols: keyBlock),
                Kernels.packedBF16RowElements(rows: stacked, cols: keyBlock)].map { ($0 + 1) / 2 }
    }

    /// Every buffer, in allocation order, with its element count.
    var buffers: [(name: String, floats: Int)] {
        let d = config.hiddenSize, c = config
        let q = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        let group = c.heads / c.kvHeads
        let stacked = group * queryBlock
        let half = c.headDim / 2
        var list: [(String, Int)] = [
            ("x", maxRows * d),                // residual stream: X, then h, then H
            ("xn", maxRows * max(d, q)),       // rms output; attention output reuses it
            ("q", maxRows * q),
            ("k", maxRows * kv),
            ("v", maxRows * kv),
            ("rope.cos", maxRows * half),      // positions 0 ... maxTokens
            ("rope.sin", maxRows * half),
            ("query.h", queryRows * d),        // each frame's query row: h, then H
            ("query.norm", queryRows * d),     // rms2(h), then v = H ⊙ w_s
            ("query.gate", queryRows * c.intermediateSize),
            ("query.up", queryRows * c.intermediateSize),  // up, then u = W_downᵀ·v
        ]
        for _ in 0..<threads {
            list += [
                ("attn.q", stacked * c.headDim), ("attn.s", stacked * keyBlock),
                ("attn.o", stacked * c.headDim), ("attn.max", stacked), ("attn.sum", stacked),
                ("mlp.gate", chunkRows * c.intermediateSize), ("mlp.up", chunkRows * c.intermediateSize),
            ]
            if compute == .bf16 {
                list += [("bf16.rows", bf16RowFloats)] + bf16AttentionFloats.map { ("bf16.attention", $0) }
            }
        }
        // fastdrive_select's scratch (Select/SelectionScratch.swift); its token rows reuse x / xn.
        let m = maxRows - 1
        list += [
            ("select.scores", m),
            ("select.values", m),
            ("select.best", threads * m),      // per-worker Gram maxima (DivPrune)
            ("select.indices", 8 * m),        // four int64 index lists of m
            ("select.similarity", SelectionScratch.similarityFloats(maxTokens: m)),
        ]
        return list
    }

    /// Total bytes, or nil if the plan overflows.
    var totalBytes: Int? {
        var total = 0
        for b in buffers {
            let (bytes, o1) = b.floats.multipliedReportingOverflow(by: 4)
            let (sum, o2) = total.addingReportingOverflow(bytes + Arena.alignment)
            if o1 || o2 { return nil }
            total = sum
        }
        return total
    }
}
