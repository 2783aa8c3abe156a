// GemmF32.swift — the f32 matrix kernel over packed weights (AVX-512 FMA): C (+)= A·Wᵀ.
import CKernels

extension Kernels {
    /// Whether compute = f32 packs its linear weights for its own kernel (AVX-512); OpenBLAS's
    /// sgemm reads them where they are otherwise.
    static var f32PackedSupported: Bool { fdk_f32_packed_supported() != 0 }

    /// Floats a packed [rows × cols] weight takes.
    static func packedF32Elements(rows: Int, cols: Int) -> Int {
        Int(fdk_f32_packed_weight_elements(Int64(rows), Int64(cols)))
    }

    /// Packs an f32 weight [out × in] into `storage` (packedF32Elements long).
    static func packF32(_ w: ConstMatrixView, into storage: UnsafeMutablePointer<Float>) -> PackedF32Weight {
        fdk_f32_pack_weight(storage, w.base, Int64(w.rowStride), Int64(w.rows), Int64(w.cols))
        return PackedF32Weight(base: UnsafePointer(storage), rows: w.rows, cols: w.cols)
    }

    /// out[M×N] = a · wᵀ (+ out when `accumulate`), f32 throughout.
    static func gemmF32(out: MatrixView, _ a: ConstMatrixView, weight w: PackedF32Weight, accumulate: Bool) {
        assert(out.cols == w.rows && a.cols == w.cols && out.rows == a.rows)
        guard out.rows > 0, out.cols > 0 else { return }
        fdk_f32_gemm(out.base, Int64(out.rowStride), a.base, Int64(a.rowStride), Int64(out.rows), w.base,
                     Int64(w.rows), Int64(w.cols), accumulate ? 1 : 0)
    }
}
