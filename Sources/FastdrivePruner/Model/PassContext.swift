// PassContext.swift — the fixed facts of one scoring call, handed to every phase of its pass.

/// Made once per call (ReconPrunerModel.score) and passed by value to each phase's tasks; nothing
/// changes it while the pass runs. Per-frame facts live in `frames`.
///
/// Trivially copyable on purpose: the model owns `frames` for the handle's life and a context
/// lives for one call, so the reference needs no counting, and a context (or an optional one)
/// is copied to every task without retains or runtime type metadata, which the first call of a
/// process would otherwise allocate.
struct PassContext {
    /// The frames of the call, stacked row-wise in the workspace.
    unowned(unsafe) let frames: FrameList
    /// The handle's abort state (owned by the Pruner for its life): polled at the start of every
    /// task and between the column steps of long products.
    unowned(unsafe) let abort: AbortSignal
    /// Rows of the pass: every frame's query row plus its tokens.
    let rows: Int
    /// Row chunks of the row-parallel phases (equal sizes, a multiple of the thread count).
    let chunkCount: Int
    let chunkSize: Int
    /// Output-column slices of each query-rows step (one per worker).
    let columnTasks: Int
    /// The scores of the call (1 × every frame's tokens): the visual row i of frame f scores
    /// into column f.scoreOffset + i.
    let scores: MatrixView
#if FASTDRIVE_BENCH_HOOKS
    /// Benchmarks only: run the pass's matrix products with their shapes and split, and nothing
    /// else (no scores are written), to measure the time spent outside them.
    let gemmsOnly: Bool
#else
    /// A production build has no GEMM-only pass: this constant lets the compiler drop every
    /// branch on it.
    var gemmsOnly: Bool { false }
#endif

    /// Whether the call must stop (see AbortSignal).
    @inline(__always) func shouldStop() -> Bool { abort.shouldStop() }

    /// Rows [start, start + count) of chunk `i` (count may be 0 for trailing chunks).
    func chunk(_ i: Int) -> (start: Int, count: Int) {
        let start = i * chunkSize
        return (start, max(0, min(chunkSize, rows - start)))
    }
}
