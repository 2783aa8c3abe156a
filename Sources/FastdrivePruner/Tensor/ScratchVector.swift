// ScratchVector.swift — a mutable f32 vector in the arena, read and written element by element.

/// `count` floats of arena scratch (selection scores, distances, flags), bounds-asserted.
struct ScratchVector {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    subscript(i: Int) -> Float {
        get {
            assert(i >= 0 && i < count)
            return base[i]
        }
        nonmutating set {
            assert(i >= 0 && i < count)
            base[i] = newValue
        }
    }

    /// The first `n` elements as a 1 × n matrix (kernel output) or as a read-only vector.
    func row(_ n: Int) -> MatrixView {
        assert(n >= 0 && n <= count)
        return MatrixView(base: base, rows: 1, cols: n)
    }

    func prefix(_ n: Int) -> VectorView {
        assert(n >= 0 && n <= count)
        return VectorView(base: base, count: n)
    }
}
