// GemmBF16.swift — the linear layers in bf16 with f32 accumulation (compute = FASTDRIVE_BF16).
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
        fdk_bf16_pack_weight(storage, w.base, Int64(w.stride), 1, Int64(w.rows), Int64(w.cols))
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
        fdk_bf16_pack_weight(scratch.base, m.base, 1, Int64(m.stride), Int64(m.cols), Int64(m.rows))
        return PackedBF16Weight(base: UnsafePointer(scratch.base), rows: m.cols, cols: m.rows)
    }

    /// scratch = (scale · a) as packed bf16 rows, the left operand of `gemmBF16(out:packed:...)`.
    static func packRowsBF16(_ a: ConstMatrixView, scale: Float = 1, into scratch: PackedBF16Rows) {
        assert(packedBF16RowElements(rows: a.rows, cols: a.cols) <= scratch.capacity)
        fdk_bf16_pack_rows(scratch.base, a.base, Int64(a.stride), Int64(a.rows), Int64(a.cols), scale)
    }

    /// out[M×N] = A · wᵀ (+ out when `accumulate`) with A already packed (M rows of w.cols values):
    /// bf16 products, f32 accumulation.
    static func gemmBF16(out: MatrixView, packed a: PackedBF16Rows, weight w: PackedBF16Weight, accumulate: Bool) {
        assert(out.cols == w.rows && packedBF16RowElements(rows: out.rows, cols: w.cols) <= a.capacity)
        guard out.rows > 0, out.cols > 0 else { return }
        fdk_bf16_gemm(out.base, Int64(out.stride), a.base, Int64(out.rows), w.base, Int64(w.rows), Int64(w.cols),
                      accumulate ? 1 : 0)
    }

    /// out = a · wᵀ (+ out when `accumulate`), as `linear`, through bf16 when the weight has a
    /// packed copy and the worker has row scratch; f32 sgemm otherwise.
    static func linear(out: MatrixView, _ a: ConstMatrixView, weight w: LinearWeight, accumulate: Bool,
                       scratch: PackedBF16Rows?) {
        guard let packed = w.bf16, let scratch else {
            // Weights without an f32 view exist only under compute = bf16, where every worker
            // has row scratch: reaching here without one is a bug in the caller.
            guard let f32 = w.f32 else { preconditionFailure("bf16-only weight used without bf16 row scratch") }
            linear(out: out, a, weight: f32, accumulate: accumulate)
            return
        }
        packRowsBF16(a, into: scratch)
        gemmBF16(out: out, packed: scratch, weight: packed, accumulate: accumulate)
    }
}
