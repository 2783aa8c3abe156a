// GemmBF16.swift — the bf16 matrix kernel: packing and C (+)= A·Wᵀ, bf16 inputs, f32 accumulation.
import CKernels

extension Kernels {
    /// Whether this CPU can run the bf16 GEMM (AVX512_BF16).
    static var bf16Supported: Bool { fdk_bf16_supported() != 0 }

    /// uint16 elements a packed [rows × cols] weight takes.
    static func packedBF16Elements(rows: Int, cols: Int) -> Int {
        Int(fdk_bf16_packed_weight_elements(Int64(rows), Int64(cols)))
    }

    /// uint16 elements `rows` packed activation rows of `cols` values take.
    static func packedBF16RowElements(rows: Int, cols: Int) -> Int {
        Int(fdk_bf16_packed_rows_elements(Int64(rows), Int64(cols)))
    }

    /// Converts and packs an f32 weight [out × in] into `storage` (packedBF16Elements long).
    static func packBF16(_ w: ConstMatrixView, into storage: UnsafeMutablePointer<UInt16>) -> PackedBF16Weight {
        fdk_bf16_pack_weight(storage, w.base, Int64(w.rowStride), 1, Int64(w.rows), Int64(w.cols))
        return PackedBF16Weight(base: UnsafePointer(storage), rows: w.rows, cols: w.cols)
    }

    /// Packs `m` [n × k] as a weight into scratch: attention's key block for q·kᵀ.
    static func packBF16(_ m: ConstMatrixView, into scratch: PackedBF16Rows) -> PackedBF16Weight {
        assert(packedBF16Elements(rows: m.rows, cols: m.cols) <= scratch.capacity)
        return packBF16(m, into: scratch.base)
    }

    /// Packs the transpose of `m` ([k × n] → a weight [n × k]) into scratch: attention's value
    /// block for p·v.
    static func packBF16Transposed(_ m: ConstMatrixView, into scratch: PackedBF16Rows) -> PackedBF16Weight {
        assert(packedBF16Elements(rows: m.cols, cols: m.rows) <= scratch.capacity)
        fdk_bf16_pack_weight(scratch.base, m.base, 1, Int64(m.rowStride), Int64(m.cols), Int64(m.rows))
        return PackedBF16Weight(base: UnsafePointer(scratch.base), rows: m.cols, cols: m.rows)
    }

    /// scratch = (scale · a) as packed bf16 rows, the left operand of `gemmBF16(out:packed:...)`.
    static func packRowsBF16(_ a: ConstMatrixView, scale: Float = 1, into scratch: PackedBF16Rows) {
        assert(packedBF16RowElements(rows: a.rows, cols: a.cols) <= scratch.capacity)
        fdk_bf16_pack_rows(scratch.base, a.base, Int64(a.rowStride), Int64(a.rows), Int64(a.cols), scale)
    }

    /// out[M×N] = A · wᵀ (+ out when `accumulate`) with A already packed (M rows of w.cols values):
    /// bf16 products, f32 accumulation.
    static func gemmBF16(out: MatrixView, packed a: PackedBF16Rows, weight w: PackedBF16Weight, accumulate: Bool) {
        assert(out.cols == w.rows && packedBF16RowElements(rows: out.rows, cols: w.cols) <= a.capacity)
        guard out.rows > 0, out.cols > 0 else { return }
        fdk_bf16_gemm(out.base, Int64(out.rowStride), a.base, Int64(out.rows), w.base, Int64(w.rows), Int64(w.cols),
                      accumulate ? 1 : 0)
    }
}
