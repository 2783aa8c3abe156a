// Gemm.swift — the only file that knows cblas_sgemm's (and cblas_sgemv's) argument order.
import COpenBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Kernels {
    /// out[M×N] = a[M×K] · w[N×K]ᵀ (+ out when `accumulate`): PyTorch's F.linear(a, w) with weights
    /// [out, in]; a bias or a residual is pre-loaded into `out` and accumulated.
    static func linear(out: MatrixView, _ a: ConstMatrixView, weight w: ConstMatrixView, accumulate: Bool) {
        assert(a.cols == w.cols && out.rows == a.rows && out.cols == w.rows)
        guard out.rows > 0, out.cols > 0 else { return }
        if out.rows == 1 {
            // A frame's query row. OpenBLAS 0.3.21's sgemm packs the whole weight before using
            // it once for one row, reading and writing it twice over; sgemv streams it once.
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(w.rows), blasint(w.cols), 1, w.base,
                        blasint(w.rowStride), a.base, 1, accumulate ? 1 : 0, out.base, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    blasint(out.rows), blasint(out.cols), blasint(a.cols),
                    1, a.base, blasint(a.rowStride), w.base, blasint(w.rowStride),
                    accumulate ? 1 : 0, out.base, blasint(out.rowStride))
    }

    /// out[M×N] = alpha · a[M×K] · b[N×K]ᵀ: attention logits q·kᵀ/sqrt(hd) (torch.matmul(q, k.T) * scale).
    static func matmulTransposed(out: MatrixView, _ a: ConstMatrixView, _ b: ConstMatrixView, alpha: Float) {
        assert(a.cols == b.cols && out.rows == a.rows && out.cols == b.rows)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    blasint(out.rows), blasint(out.cols), blasint(a.cols),
                    alpha, a.base, blasint(a.rowStride), b.base, blasint(b.rowStride),
                    0, out.base, blasint(out.rowStride))
    }

    /// out[M×N] = a[M×K] · b[K×N]: the folded scorer's u = v · W_down (W_down is [D × I]).
    static func matmul(out: MatrixView, _ a: ConstMatrixView, _ b: ConstMatrixView) {
        assert(a.cols == b.rows && out.rows == a.rows && out.cols == b.cols)
        guard out.rows > 0, out.cols > 0 else { return }
        if out.rows == 1 {  // one frame: uᵀ = vᵀ·W_down as a GEMV, without sgemm's packing of W_down
            cblas_sgemv(CblasRowMajor, CblasTrans, blasint(b.rows), blasint(b.cols), 1, b.base,
                        blasint(b.rowStride), a.base, 1, 0, out.base, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    blasint(out.rows), blasint(out.cols), blasint(a.cols),
                    1, a.base, blasint(a.rowStride), b.base, blasint(b.rowStride),
                    0, out.base, blasint(out.rowStride))
    }

    /// out[M×N] += a[M×K] · b[K×N]: attention's p·v (torch.matmul(p, v)) into a running output.
    static func matmulAccumulate(out: MatrixView, _ a: ConstMatrixView, _ b: ConstMatrixView) {
        assert(a.cols == b.rows && out.rows == a.rows && out.cols == b.cols)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    blasint(out.rows), blasint(out.cols), blasint(a.cols),
                    1, a.base, blasint(a.rowStride), b.base, blasint(b.rowStride),
                    1, out.base, blasint(out.rowStride))
    }

    /// Makes ready what `beginBLASCall(mode)` needs, at create (the first use of the restore
    /// lock allocates it). Under `.setOne`, sets OpenBLAS single-threaded now, as 1.0 did.
    static func prepareBLASThreads(_ mode: BLASThreadMode) {
        switch mode {
        case .setOne: useSingleThreadedBLAS()
        case .restore: _ = blasRestore
        case .leave: break
        }
    }

    /// Before a call's products: OpenBLAS single-threaded as `mode` allows. The runtime's own
    /// workers parallelise around it, and OpenBLAS 0.3.21's threaded sgemm mallocs a job table
    /// per call. No allocation.
    static func beginBLASCall(_ mode: BLASThreadMode) {
        switch mode {
        case .setOne: useSingleThreadedBLAS()
        case .restore: blasRestore.enter()
        case .leave: break
        }
    }

    /// After a call's products: under `.restore`, the last call out puts the host's count back.
    static func endBLASCall(_ mode: BLASThreadMode) {
        if mode == .restore { blasRestore.leave() }
    }

    private static func useSingleThreadedBLAS() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
}

/// FASTDRIVE_BLAS_THREADS_RESTORE across every handle of the process: the count is process-wide,
/// so the first call in saves it and sets 1, and the last call out restores it. Per-call
/// save/restore would let a call finishing on one handle restore a threaded OpenBLAS under a
/// call still running on another.
private final class BLASRestore: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    private var active = 0
    private var saved: Int32 = 1

    func enter() {
        pthread_mutex_lock(mutex)
        if active == 0 {
            saved = openblas_get_num_threads()
            if saved != 1 { openblas_set_num_threads(1) }
        }
        active += 1
        pthread_mutex_unlock(mutex)
    }

    func leave() {
        pthread_mutex_lock(mutex)
        active -= 1
        if active == 0 && saved != 1 { openblas_set_num_threads(saved) }
        pthread_mutex_unlock(mutex)
    }
}

private let blasRestore = BLASRestore()
