// Uniform.swift — UNIFORM: K indices evenly spaced over 0 ..< N, deterministic.

enum Uniform {
    /// out[i] = ⌊(2i + 1)·N / (2K)⌋ for i < K: the centre of the i-th of K equal slices of the
    /// raster order (⌊(i + ½)·N/K⌋ in exact integer arithmetic). Distinct and ascending because
    /// consecutive centres are N/K ≥ 1 apart; K = N gives 0 ..< N.
    static func select(n: Int, k: Int, into out: IndexBuffer) {
        assert(k >= 1 && k <= n)
        for i in 0..<k { out[i] = (2 * i + 1) * n / (2 * k) }
    }
}
