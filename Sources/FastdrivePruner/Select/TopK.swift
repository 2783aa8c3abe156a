// TopK.swift — the K best scores: ties to the lower index, indices returned ascending.

/// Selection over a score vector in O(n log k) time and O(1) extra space: the output buffer
/// itself holds a min-heap of the best k seen so far (root = the weakest kept), then is
/// heap-sorted into ascending index order.
enum TopK {
    /// Whether token a ranks above token b: higher score, or equal score and lower index.
    @inline(__always)
    static func ranksAbove(_ a: Int, _ b: Int, _ s: VectorView) -> Bool {
        s[a] > s[b] || (s[a] == s[b] && a < b)
    }

    /// Writes the indices of the k best of `scores` into out[0..<k], ascending. Scores must
    /// not contain NaN (the caller rejects it); 1 <= k <= scores.count.
    static func select(_ scores: VectorView, k: Int, into out: IndexBuffer) {
        assert(k >= 1 && k <= scores.count && out.count >= k)
        // Heap ordered so that the root is the kept token that ranks lowest. (Closure literals
        // passed straight to a non-escaping parameter live on the stack: no allocation.)
        for i in 0..<k { out[i] = i }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) {
            siftDown(out, from: i, count: k) { a, b in ranksAbove(b, a, scores) }
        }
        for i in k..<scores.count where ranksAbove(i, out[0], scores) {
            out[0] = i
            siftDown(out, from: 0, count: k) { a, b in ranksAbove(b, a, scores) }
        }
        // Heap-sort by index: a max-heap on the index, then move the largest to the end.
        for i in stride(from: k / 2 - 1, through: 0, by: -1) {
            siftDown(out, from: i, count: k) { a, b in a > b }
        }
        for end in stride(from: k - 1, to: 0, by: -1) {
            out.swapAt(0, end)
            siftDown(out, from: 0, count: end) { a, b in a > b }
        }
    }

    /// Restores the heap property below `root` for out[0..<count], where `above(a, b)` means
    /// a belongs nearer the root than b.
    @inline(__always)
    private static func siftDown(_ out: IndexBuffer, from root: Int, count: Int, above: (Int, Int) -> Bool) {
        var parent = root
        while true {
            var best = parent
            let left = 2 * parent + 1, right = left + 1
            if left < count && above(out[left], out[best]) { best = left }
            if right < count && above(out[right], out[best]) { best = right }
            if best == parent { return }
            out.swapAt(parent, best)
            parent = best
        }
    }
}
