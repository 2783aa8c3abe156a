// BLASThreadMode.swift — what a handle does with OpenBLAS's process-wide thread count.

/// FASTDRIVE_BLAS_THREADS_*. The runtime parallelises around single-threaded sgemm calls (a
/// threaded sgemm allocates per call); the count is process-wide, so the host chooses how much
/// of its own OpenBLAS use that may touch.
package enum BLASThreadMode: Int32, Sendable {
    /// 1.0 behaviour: set to 1 at create and before each call, never restored.
    case setOne = 0
    /// 1 while calls of such handles run; the value found when the first began is put back
    /// when the last ends.
    case restore = 1
    /// Never touched.
    case leave = 2
}
