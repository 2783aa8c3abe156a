// PackedInt8.swift — views of int8-quantized operands for the int8 GEMM (layouts in gemm_int8.c).

/// A linear weight [out × in] quantized and packed once at create: 32-column panels of s8 quads,
/// each output channel's scale, and its column sum Σ_k qw (the zero-point correction's term).
struct PackedInt8Weight {
    let base: UnsafePointer<UInt8>
    let scales: UnsafePointer<Float>
    let sums: UnsafePointer<Int32>
    let rows: Int
    let cols: Int
}

/// Per-worker scratch for one chunk's rows quantized to u8 before each GEMM, with each row's
/// scale and zero point.
struct PackedInt8Rows {
    let base: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float>
    let zeroPoints: UnsafeMutablePointer<Int32>
    /// Bytes of `base`, and entries of `scales` and `zeroPoints`.
    let capacity: Int
    let rowCapacity: Int
}
