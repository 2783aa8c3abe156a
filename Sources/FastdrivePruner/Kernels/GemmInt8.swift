// GemmInt8.swift — the int8 matrix kernel: quantizing, packing and C (+)= A·Wᵀ, u8 × s8 products,
// int32 accumulation, f32 rescale.
import CKernels

extension Kernels {
    /// Whether this CPU can run the int8 GEMM (AVX512-VNNI).
    static var int8Supported: Bool { fdk_int8_supported() != 0 }

    /// Whether the int8 and bf16 GEMMs run on AMX tiles in this process (see amx.c).
    static var amxUsable: Bool { fdk_amx_usable() != 0 }

    /// Bytes a packed [rows × cols] weight takes (quantized panels, scales, column sums).
    static func packedInt8Bytes(rows: Int, cols: Int) -> Int {
        Int(fdk_int8_packed_weight_bytes(Int64(rows), Int64(cols)))
    }

    /// Bytes `rows` quantized activation rows of `cols` values take.
    static func packedInt8RowBytes(rows: Int, cols: Int) -> Int {
        Int(fdk_int8_packed_rows_bytes(Int64(rows), Int64(cols)))
    }

    /// Quantizes (per output channel, symmetric) and packs an f32 weight [out × in] into
    /// `storage` (packedInt8Bytes long, 64-byte aligned).
    static func packInt8(_ w: ConstMatrixView, into storage: UnsafeMutablePointer<UInt8>) -> PackedInt8Weight {
        fdk_int8_pack_weight(storage, w.base, Int64(w.rowStride), Int64(w.rows), Int64(w.cols))
        let raw = UnsafeRawPointer(storage)
        let scales = raw + Int(fdk_int8_weight_scales_offset(Int64(w.rows), Int64(w.cols)))
        let sums = raw + Int(fdk_int8_weight_sums_offset(Int64(w.rows), Int64(w.cols)))
        return PackedInt8Weight(base: UnsafePointer(storage), scales: scales.assumingMemoryBound(to: Float.self),
                                sums: sums.assumingMemoryBound(to: Int32.self), rows: w.rows, cols: w.cols)
    }

    /// Quantizes `a` per row (asymmetric u8) into `scratch`, the left operand of `gemmInt8`.
    static func quantizeRowsInt8(_ a: ConstMatrixView, into scratch: PackedInt8Rows) {
        assert(packedInt8RowBytes(rows: a.rows, cols: a.cols) <= scratch.capacity && a.rows <= scratch.rowCapacity)
        fdk_int8_quantize_rows_fast(scratch.base, scratch.scales, scratch.zeroPoints, a.base, Int64(a.rowStride),
                                    Int64(a.rows), Int64(a.cols))
    }

    /// out[M×N] = A · wᵀ (+ out when `accumulate`) with A already quantized (M rows of w.cols
    /// values): u8 × s8 products, int32 accumulation, f32 rescale.
    static func gemmInt8(out: MatrixView, quantized a: PackedInt8Rows, weight w: PackedInt8Weight, accumulate: Bool) {
        assert(out.cols == w.rows && packedInt8RowBytes(rows: out.rows, cols: w.cols) <= a.capacity)
        guard out.rows > 0, out.cols > 0 else { return }
        fdk_int8_gemm(out.base, Int64(out.rowStride), a.base, a.scales, a.zeroPoints, Int64(out.rows), w.base,
                      w.scales, w.sums, Int64(w.rows), Int64(w.cols), accumulate ? 1 : 0)
    }
}
