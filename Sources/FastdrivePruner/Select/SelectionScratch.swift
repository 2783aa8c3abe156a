// SelectionScratch.swift — the arena buffers fastdrive_select works in, carved for max_tokens.

/// Views carved once at create (Core/HandleScratch.swift carves them after the pass's workspace,
/// against the measuring arena first, like it). Rows 0 ..< n of `tokens` receive the f32 tokens
/// of a call; `tokens` and `gathered` are the forward pass's residual and norm buffers, idle
/// whenever a policy reads them (a policy either scores first or reads tokens, never both).
struct SelectionScratch {
    /// f32 tokens, normalised in place by the diversity policies (maxTokens + 1 rows × d); the
    /// spare row maxTokens stages one DART host pivot row at a time.
    let tokens: MatrixView
    /// VisPruner: the normalised residual tokens, in residual order. CDPruner: its f64 d² per
    /// token (2·maxTokens floats of the (maxTokens + 1)·d; d >= 2 since head_dim is even).
    let gathered: MatrixView
    /// Per-token ranking values: ReconPruner's scores, NORM's squared norms, DART's L1 norms,
    /// CDPruner's relevance weights.
    let scores: ScratchVector
    /// Per-token 0/1 marks of the kept set (VISPRUNER, RANDOM, DART).
    let flags: ScratchVector
    /// DivPrune min distances / VisPruner per-round similarity maxima / DART's text-row L1 norms,
    /// then its −cosines to one pivot.
    let values: ScratchVector
    /// One row of maxTokens per worker thread: SimilarityPasses' per-worker maxima.
    let partialBest: MatrixView
    /// Index scratch: importance order or permutation, residual list, next list, sort ranks
    /// (DART: the L1 order, one pivot's share, the text rows' L1 order).
    let order: IndexBuffer
    let residual: IndexBuffer
    let next: IndexBuffer
    let rank: IndexBuffer
    /// VisPruner's cosine matrix over the residual tokens (similarityCap² floats), or nil when
    /// the handle's max_tokens exceeds the cap (VisPruner then recomputes dot products).
    /// CDPruner keeps its f32 factor [N × K] here, so it needs the matrix.
    let similarity: MatrixView?

    /// Largest max_tokens for which the VisPruner matrix is planned (64 MiB at 4096).
    static let similarityCap = 4096

    /// Carves the buffers for up to `maxTokens` tokens and `threads` workers from `arena`
    /// (writing nothing); the token rows reuse `tokens` and `gathered`.
    init(carving arena: inout Arena, maxTokens m: Int, threads: Int, tokens: MatrixView,
         gathered: MatrixView) throws(PrunerError) {
        self.tokens = tokens
        self.gathered = gathered
        scores = ScratchVector(base: try arena.floats(m), count: m)
        // A policy marks tokens or ranks them, never both: the marks take the scores' storage.
        flags = scores
        values = ScratchVector(base: try arena.floats(m), count: m)
        let (best, overflow) = threads.multipliedReportingOverflow(by: m)
        guard !overflow else { throw .outOfMemory("scratch plan overflows") }
        partialBest = MatrixView(base: try arena.floats(best), rows: threads, cols: m)
        let indices = try arena.int64s(4 * m)
        order = IndexBuffer(base: indices, count: m)
        residual = IndexBuffer(base: indices + m, count: m)
        next = IndexBuffer(base: indices + 2 * m, count: m)
        rank = IndexBuffer(base: indices + 3 * m, count: m)
        similarity = m <= Self.similarityCap ? MatrixView(base: try arena.floats(m * m), rows: m, cols: m) : nil
    }
}
