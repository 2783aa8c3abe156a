// SelectionScratch.swift — the arena buffers fastdrive_select works in, planned for max_tokens.

/// Views carved once at create (Workspace, same order as ArenaLayout.buffers). Rows 0 ..< n
/// of `tokens` receive the f32 tokens of a call (the model's residual-stream buffer, idle
/// outside `score`); `gathered` (the model's norm buffer) holds VisPruner's residual rows.
struct SelectionScratch {
    /// f32 tokens, normalised in place by the diversity policies (maxTokens + 1 rows × d).
    let tokens: MatrixView
    /// VisPruner: the normalised residual tokens, in residual order.
    let gathered: MatrixView
    /// ReconPruner scores / squared norms / selection flags.
    let scores: ScratchVector
    /// DivPrune min distances / VisPruner per-round similarity maxima.
    let values: ScratchVector
    /// One row of maxTokens per worker thread: SimilarityPasses' per-worker maxima.
    let partialBest: MatrixView
    /// Index scratch: importance order or permutation, residual list, next list, sort ranks.
    let order: IndexBuffer
    let residual: IndexBuffer
    let next: IndexBuffer
    let rank: IndexBuffer
    /// VisPruner's cosine matrix over the residual tokens (similarityCap² floats), or nil when
    /// the handle's max_tokens exceeds the cap (VisPruner then recomputes dot products).
    let similarity: MatrixView?

    /// Largest max_tokens for which the VisPruner matrix is planned (64 MiB at 4096).
    static let similarityCap = 4096

    static func similarityFloats(maxTokens: Int) -> Int {
        maxTokens <= similarityCap ? maxTokens * maxTokens : 0
    }
}
