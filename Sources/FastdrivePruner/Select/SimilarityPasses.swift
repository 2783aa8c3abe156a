// SimilarityPasses.swift — the diversity policies' dot-product passes, split over the handle's workers.

/// DivPrune's and VisPruner's O(N²·D) passes dominate fastdrive_select (seconds at N = 3249,
/// D = 2048), so they run on the handle's worker pool, as `score` does. Every pass yields the
/// serial values bit for bit: each dot product is computed once, in the one canonical order
/// (CKernels/select.c), and a maximum does not depend on the order it is taken in.
///
/// Like ForwardPass, each pass hands the pool one immutable description of itself (`Run`), and
/// every task starts in `run(task:worker:)`.
final class SimilarityPasses: ParallelJob {
    private enum Pass { case nearest, matrix, minDistance }

    /// One pass: what it reads and writes, and how it is split.
    private struct Run {
        let pass: Pass
        let x: ConstMatrixView
        let target: MatrixView?
        let toward: VectorView?
        /// Gram chunks, or row slices for minDistance.
        let tasks: Int
        let rowsPerTask: Int
    }

    private let pool: WorkerPool
    /// The handle's abort state: every task polls it, and so do the policies between passes.
    private let abort: AbortSignal
    /// One row per worker: its maxima over the Gram chunks it ran.
    private let partialBest: MatrixView
    /// The running pass, set by `start` for the duration of one pool run.
    private var current: Run?

    init(pool: WorkerPool, partialBest: MatrixView, abort: AbortSignal) {
        assert(partialBest.rows >= pool.threadCount)
        self.pool = pool
        self.abort = abort
        self.partialBest = partialBest
    }

    /// best[0][i] = max_{j≠i} x[i]·x[j] (−∞ for a single row), without an N×N matrix.
    func nearest(best: MatrixView, _ x: ConstMatrixView) {
        let n = x.rows
        for w in 0..<pool.threadCount { Kernels.fill(partialBest.rows(w, 1).columns(0, n), value: -.infinity) }
        start(Run(pass: .nearest, x: x, target: nil, toward: nil, tasks: Kernels.gramChunks(rows: n), rowsPerTask: 0))
        Kernels.copy(out: best, partialBest.rows(0, 1).columns(0, n).readOnly)
        for w in 1..<pool.threadCount { Kernels.maximum(into: best, partialBest.rows(w, 1).columns(0, n).readOnly) }
    }

    /// sim[i][j] = x[i]·x[j] for i ≠ j (rows × rows; the diagonal is left as it was).
    func matrix(_ sim: MatrixView, _ x: ConstMatrixView) {
        start(Run(pass: .matrix, x: x, target: sim, toward: nil, tasks: Kernels.gramChunks(rows: x.rows), rowsPerTask: 0))
    }

    /// minDistance[0][r] = min(minDistance[0][r], 1 − x[r]·x[u]) except where it is −∞ (selected).
    func updateMinDistance(_ minDistance: MatrixView, _ x: ConstMatrixView, from u: Int) {
        start(Run(pass: .minDistance, x: x, target: minDistance, toward: x.row(u), tasks: pool.threadCount,
                  rowsPerTask: (x.rows + pool.threadCount - 1) / pool.threadCount))
    }

    /// Whether the call must stop: a policy asks between its passes and rounds, and returns
    /// without writing its output when told to.
    func shouldStop() -> Bool { abort.shouldStop() }

    private func start(_ run: Run) {
        current = run
        pool.run(tasks: run.tasks, self)
        current = nil
    }

    func run(task: Int, worker: Int) {
        guard let run = current, !abort.shouldStop() else { return }
        let x = run.x
        switch run.pass {
        case .nearest, .matrix:
            // Chunk c pairs each of its columns with every row above it: the last chunks are the
            // largest, so they go out first and the small ones even out the workers' ends.
            let chunk = run.tasks - 1 - task
            if run.pass == .nearest {
                Kernels.gramChunk(best: partialBest.rows(worker, 1).columns(0, x.rows), sim: nil, x, chunk: chunk)
            } else {
                Kernels.gramChunk(best: nil, sim: run.target, x, chunk: chunk)
            }
        case .minDistance:
            guard let target = run.target, let toward = run.toward else { return }
            let r0 = task * run.rowsPerTask, count = min(run.rowsPerTask, x.rows - r0)
            guard count > 0 else { return }
            Kernels.updateMinDistance(target.columns(r0, count), x.rows(r0, count), toward: toward)
        }
    }
}
