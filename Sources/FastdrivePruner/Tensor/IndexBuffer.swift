// IndexBuffer.swift — the host's int64 index output, as a bounds-asserted mutable view.

/// `count` int64 slots owned by the host, written by top-K.
package struct IndexBuffer {
    let base: UnsafeMutablePointer<Int64>
    let count: Int

    subscript(i: Int) -> Int {
        get {
            assert(i >= 0 && i < count)
            return Int(base[i])
        }
        nonmutating set {
            assert(i >= 0 && i < count)
            base[i] = Int64(newValue)
        }
    }

    func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
