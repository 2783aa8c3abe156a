// SimilarityPasses.swift — the diversity policies' dot-product passes, split over the handle's workers.

/// DivPrune's and VisPruner's O(N²·D) passes dominate fastdrive_select (seconds at N = 3249,
/// D = 2048), so they run on the handle's worker pool, as `score` does. Every pass yields the
/// serial values bit for bit: each dot product is computed once, in the one canonical order
/// (CKernels/select.c), and a maximum does not depend on the order it is taken in.
///
/// Like ForwardPass, each pass hands the pool one immutable description of itself (`Run`), and
/// every task starts in `run(task:worker:)`.
final class SimilarityPasses: ParallelJob {
    private enum Pass { case nearest, matrix, minDistance, dots, dpp }

    /// CDPruner's greedy step (see Kernels.dppUpdate): what the rows are updated against.
    private struct DPPStep {
        let d2: UnsafeMutablePointer<Double>
        let factors: MatrixView
        let step: Int
        let pick: Int
        let quality: VectorView
        let den: Double
    }

    /// One pass: what it reads and writes, and how it is split.
    private struct Run {
        let pass: Pass
        let x: ConstMatrixView
        let target: MatrixView?
        let toward: VectorView?
        var dpp: DPPStep? = nil
        /// Gram chunks, or row slices for minDistance, dots and dpp.
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

    /// out[0][r] = x[r]·u for every row (DART's cosines to one pivot).
    func dots(_ out: MatrixView, _ x: ConstMatrixView, toward u: VectorView) {
        start(Run(pass: .dots, x: x, target: out, toward: u, tasks: pool.threadCount,
                  rowsPerTask: (x.rows + pool.threadCount - 1) / pool.threadCount))
    }

    /// CDPruner's step `step` after picking `pick`: every unpicked row r (d2[r] != −∞) gets
    /// e = (q[pick]·(x[pick]·x[r])·q[r] − factors[pick][0..<step]·factors[r][0..<step]) / den,
    /// factors[r][step] = e, d2[r] −= e².
    func dppStep(d2: UnsafeMutablePointer<Double>, factors: MatrixView, step: Int, pick: Int, quality: VectorView,
                 den: Double, _ x: ConstMatrixView) {
        var run = Run(pass: .dpp, x: x, target: nil, toward: x.row(pick), tasks: pool.threadCount,
                      rowsPerTask: (x.rows + pool.threadCount - 1) / pool.threadCount)
        run.dpp = DPPStep(d2: d2, factors: factors, step: step, pick: pick, quality: quality, den: den)
        start(run)
    }

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
        case .dots:
            guard let target = run.target, let toward = run.toward else { return }
            let r0 = task * run.rowsPerTask, count = min(run.rowsPerTask, x.rows - r0)
            guard count > 0 else { return }
            Kernels.dots(out: target.columns(r0, count), x.rows(r0, count), toward: toward)
        case .dpp:
            guard let s = run.dpp, let toward = run.toward else { return }
            let r0 = task * run.rowsPerTask, count = min(run.rowsPerTask, x.rows - r0)
            guard count > 0 else { return }
            Kernels.dppUpdate(d2: s.d2 + r0, factors: s.factors.rows(r0, count), step: s.step,
                              pickFactors: s.factors.base + s.pick * s.factors.rowStride, x.rows(r0, count),
                              toward: toward, quality: s.quality.elements(r0, count), pickQuality: Double(s.quality[s.pick]),
                              den: s.den)
        }
    }
}
