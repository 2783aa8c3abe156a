// ForwardPlan.swift — the shape of a handle's forward pass, decided once at create for max_tokens.

/// Block and chunk sizes of the pass for a config, a token capacity, a thread count and a
/// compute type, and the worst case every buffer is planned for (ggml's "reserve with a
/// worst-case graph"). Rows include each frame's query row. The buffers are carved from these
/// numbers by Workspace (and SelectionScratch); the arena's size is what that same carving
/// measures (Core/HandleScratch.swift), so there is no second list of buffer sizes.
struct ForwardPlan {
    let config: PrunerConfig
    let compute: ComputeType
    let threads: Int
    /// max_tokens + 1: one frame of max_tokens tokens and its query row, or several frames
    /// whose tokens and query rows add up to this.
    let maxRows: Int
    /// Query rows per attention task and key rows per online-softmax step.
    let queryBlock: Int
    let keyBlock: Int
    /// Rows of one row chunk of the row-parallel phases (each worker owns one chunk's MLP scratch).
    let chunkRows: Int

    /// Largest row chunk of the row-parallel phases: bounds the MLP scratch.
    static let maxChunkRows = 384
    static let keyBlockRows = 512

    init(config: PrunerConfig, maxTokens: Int, threads: Int, compute: ComputeType = .f32) {
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

    var maxTokens: Int { maxRows - 1 }

    /// Query rows one call can have: one per frame, each frame at least 2 rows.
    var queryRows: Int { max(1, min(FrameList.capacity, maxRows / 2)) }

    /// Rows of a KV head's stacked query heads in one attention task.
    var stackedQueryRows: Int { (config.heads / config.kvHeads) * queryBlock }

    /// Widest input of any linear layer (the linear scratch holds one chunk of such rows).
    var widestLinearInput: Int { max(config.hiddenSize, config.intermediateSize, config.heads * config.headDim) }

    /// Whether attention's q·kᵀ and p·v run in bf16 (with f32 accumulation; softmax stays f32).
    /// Under int8 only where the bf16 GEMM runs on AMX tiles: per-row int8 would quantize
    /// attention's operands (q, k, the softmax's probabilities) far more coarsely than weights,
    /// and AVX512_BF16's vdpbf16ps is no faster than an f32 FMA on some CPUs (a quarter of its
    /// rate on a Sapphire Rapids-class KVM guest, measured), whereas AMX's tdpbf16ps is several
    /// times faster there. At N = 3249 attention is ~15 % of the multiply-adds but, left in f32
    /// beside AMX's int8 linear layers, about half of the time.
    var attentionInBF16: Bool {
        switch compute {
        case .f32: false
        case .bf16: true
        case .int8: Kernels.amxUsable
        }
    }

    /// Splits `rows` into equal chunks, a multiple of the thread count, each <= maxChunkRows.
    func chunking(rows: Int) -> (count: Int, size: Int) {
        let perRound = threads * Self.maxChunkRows
        let count = threads * ((rows + perRound - 1) / perRound)
        let size = (rows + count - 1) / count
        return (min(count, rows), size)
    }
}
