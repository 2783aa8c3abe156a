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
