// IndexBuffer.swift — int64 index lists (the host's kept indices, the policies' scratch) as a bounds-asserted view.

/// `count` int64 slots, not owned: the host's output of top-K and select, or one of the
/// selection policies' index lists in the arena.
struct IndexBuffer {
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
