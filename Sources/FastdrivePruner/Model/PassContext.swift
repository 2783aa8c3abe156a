// FrameGeometry.swift — the per-call shape of a frame: rows, row chunks, grid.

/// What one `score` call looks like to the row-parallel phases: set before each pass, read by
/// the workers. (Per-frame facts live in FrameList.)
struct FrameGeometry {
    /// Rows of the pass: every frame's query row plus its tokens.
    var rows = 0
    /// Row chunks of the row-parallel phases (equal sizes, a multiple of the thread count).
    var chunkCount = 0
    var chunkSize = 0
    /// Benchmarks only: run the GEMMs of the pass and nothing else.
    var gemmOnly = false

    /// Rows [start, start + count) of chunk `i` (count may be 0 for trailing chunks).
    func chunk(_ i: Int) -> (start: Int, count: Int) {
        let start = i * chunkSize
        return (start, max(0, min(chunkSize, rows - start)))
    }
}
