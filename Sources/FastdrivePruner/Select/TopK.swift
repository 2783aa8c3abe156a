// TopK.swift — the K best scores: ties to the lower index, indices returned ascending.

/// Selection over a score vector in O(n log k) time and O(1) extra space: the output buffer
/// itself holds a heap of the best k seen so far (root = the weakest kept), then is heap-sorted
/// into ascending index order.
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
        // Heap on the ranking, so its root is the kept token that ranks lowest. (Closure literals
        // passed straight to a non-escaping parameter live on the stack: no allocation.)
        for i in 0..<k { out[i] = i }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) {
            IndexSort.siftDown(out, from: i, count: k) { a, b in ranksAbove(a, b, scores) }
        }
        for i in k..<scores.count where ranksAbove(i, out[0], scores) {
            out[0] = i
            IndexSort.siftDown(out, from: 0, count: k) { a, b in ranksAbove(a, b, scores) }
        }
        IndexSort.sort(out, count: k) { a, b in a < b }
    }
}
