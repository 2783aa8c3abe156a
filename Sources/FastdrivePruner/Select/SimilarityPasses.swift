// SimilarityPasses.swift — the diversity policies' dot-product passes, split over the handle's workers.

/// DivPrune's and VisPruner's O(N²·D) passes dominate fastdrive_select (seconds at N = 3249,
/// D = 2048), so they run on the handle's worker pool, as `score` does. Every pass yields the
/// serial values bit for bit: each dot product is computed once, in the one canonical order
/// (CKernels/select.c), and a maximum does not depend on the order it is taken in.
final class SimilarityPasses: ParallelJob {
    private enum Pass { case nearest, matrix, minDistance }

    private let pool: WorkerPool
    /// One row per worker: its maxima over the Gram chunks it ran.
    private let partialBest: MatrixView
    private var pass = Pass.nearest
    private var x: ConstMatrixView?
    private var target: MatrixView?
    private var toward: VectorView?
    /// Tasks of the running pass: Gram chunks, or row slices for minDistance.
    private var tasks = 0
    private var rowsPerTask = 0

    init(pool: WorkerPool, partialBest: MatrixView) {
        assert(partialBest.rows >= pool.threadCount)
        self.pool = pool
        self.partialBest = partialBest
    }

    /// best[0][i] = max_{j≠i} x[i]·x[j] (−∞ for a single row), without an N×N matrix.
    func nearest(best: MatrixView, _ x: ConstMatrixView) {
        let n = x.rows
        for w in 0..<pool.threadCount { Kernels.fill(partialBest.rows(w, 1).columns(0, n), value: -.infinity) }
        start(.nearest, x: x, target: nil, tasks: Kernels.gramChunks(rows: n))
        Kernels.copy(out: best, partialBest.rows(0, 1).columns(0, n).readOnly)
        for w in 1..<pool.threadCount { Kernels.maximum(into: best, partialBest.rows(w, 1).columns(0, n).readOnly) }
    }

    /// sim[i][j] = x[i]·x[j] for i ≠ j (rows × rows; the diagonal is left as it was).
    func matrix(_ sim: MatrixView, _ x: ConstMatrixView) {
        start(.matrix, x: x, target: sim, tasks: Kernels.gramChunks(rows: x.rows))
    }

    /// minDistance[0][r] = min(minDistance[0][r], 1 − x[r]·x[u]) except where it is −∞ (selected).
    func updateMinDistance(_ minDistance: MatrixView, _ x: ConstMatrixView, from u: Int) {
        toward = x.row(u)
        rowsPerTask = (x.rows + pool.threadCount - 1) / pool.threadCount
        start(.minDistance, x: x, target: minDistance, tasks: pool.threadCount)
    }

    private func start(_ pass: Pass, x: ConstMatrixView, target: MatrixView?, tasks: Int) {
        self.pass = pass
        self.x = x
        self.target = target
        self.tasks = tasks
        pool.run(tasks: tasks, self)
    }

    func run(task: Int, worker: Int) {
        guard let x else { return }
        switch pass {
        case .nearest, .matrix:
            // Chunk c pairs each of its columns with every row above it: the last chunks are the
            // largest, so they go out first and the small ones even out the workers' ends.
            let chunk = tasks - 1 - task
            if pass == .nearest {
                Kernels.gramChunk(best: partialBest.rows(worker, 1).columns(0, x.rows), sim: nil, x, chunk: chunk)
            } else {
                Kernels.gramChunk(best: nil, sim: target, x, chunk: chunk)
            }
        case .minDistance:
            guard let target, let toward else { return }
            let r0 = task * rowsPerTask, count = min(rowsPerTask, x.rows - r0)
            guard count > 0 else { return }
            Kernels.updateMinDistance(target.columns(r0, count), x.rows(r0, count), toward: toward)
        }
    }
}
