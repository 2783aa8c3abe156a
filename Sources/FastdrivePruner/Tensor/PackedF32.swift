// PackedF32.swift — a view of an f32 weight packed for the f32 GEMM (layout in gemm_f32.c).

/// A linear weight [out × in] packed once at create: 32-column panels, one k value per row.
struct PackedF32Weight {
    let base: UnsafePointer<Float>
    let rows: Int
    let cols: Int
}
