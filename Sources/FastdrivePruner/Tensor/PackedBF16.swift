// PackedBF16.swift — views of bf16-packed operands for the bf16 GEMM (layouts in gemm_bf16.c).

/// A linear weight [out × in] packed once at create: 32-column panels of bf16 pairs.
struct PackedBF16Weight {
    let base: UnsafePointer<UInt16>
    let rows: Int
    let cols: Int
}

/// Per-worker scratch for one chunk's rows converted to bf16 pairs before each GEMM.
struct PackedBF16Rows {
    let base: UnsafeMutablePointer<UInt16>
    let capacity: Int
}

/// A linear layer's weight [rows × cols]: the f32 view, and with compute = bf16 its packed copy.
struct LinearWeight {
    /// nil under compute = bf16 when the tensor had to be converted (F16/BF16 or misaligned in
    /// the file): only the packed copy is kept, since the bf16 path never reads f32 weights.
    let f32: ConstMatrixView?
    let bf16: PackedBF16Weight?
    let rows: Int
    let cols: Int

    init(f32: ConstMatrixView?, bf16: PackedBF16Weight?, rows: Int, cols: Int) {
        assert(f32 != nil || bf16 != nil)
        self.f32 = f32
        self.bf16 = bf16
        self.rows = rows
        self.cols = cols
    }

    /// Output rows [start, start + count), for splitting one GEMM's columns over workers.
    /// With a packed copy, `start` must begin a 32-row panel and the slice must end on one or at
    /// the last row (panels are stored one after another, see gemm_bf16.c).
    func rows(_ start: Int, _ count: Int) -> LinearWeight {
        let f32Rows = f32?.rows(start, count)
        guard let packed = bf16 else { return LinearWeight(f32: f32Rows, bf16: nil, rows: count, cols: cols) }
        assert(Kernels.packedBF16Elements(rows: 1, cols: 2) == 2 * Self.panelRows, "panel width differs from gemm_bf16.c")
        assert(start % Self.panelRows == 0 && ((start + count) % Self.panelRows == 0 || start + count == rows))
        let offset = Kernels.packedBF16Elements(rows: start, cols: cols)
        return LinearWeight(f32: f32Rows, bf16: PackedBF16Weight(base: packed.base + offset, rows: count, cols: cols),
                            rows: count, cols: cols)
    }

    /// Output rows per packed panel: slices of a packed weight start on multiples of this.
    static let panelRows = 32
}

/// A worker's bf16 attention operands: its stacked queries, one key block and one value block
/// packed as weights, and the probabilities of the block.
struct BF16AttentionScratch {
    let query: PackedBF16Rows
    let keys: PackedBF16Rows
    let values: PackedBF16Rows
    let probabilities: PackedBF16Rows
}
