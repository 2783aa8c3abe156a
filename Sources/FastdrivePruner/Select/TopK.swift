// TopK.swift — the K best scores (Ranking's order), indices returned ascending.

/// Selection over a score vector in O(n log k) time and O(1) extra space: the output buffer
/// itself holds a heap of the best k seen so far (root = the weakest kept), then is heap-sorted
/// into ascending index order.
enum TopK {
    /// Writes the indices of the k best of `scores` into out[0..<k], ascending. Scores must
    /// not contain NaN (the caller rejects it); 1 <= k <= scores.count.
    static func select(_ scores: VectorView, k: Int, into out: IndexBuffer) {
        assert(k >= 1 && k <= scores.count && out.count >= k)
        // Heap on the ranking, so its root is the kept token that ranks lowest. (Closure literals
        // passed straight to a non-escaping parameter live on the stack: no allocation.)
        for i in 0..<k { out[i] = i }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) {
            IndexSort.siftDown(out, from: i, count: k) { a, b in Ranking.above(a, b, in: scores) }
        }
        for i in k..<scores.count where Ranking.above(i, out[0], in: scores) {
            out[0] = i
            IndexSort.siftDown(out, from: 0, count: k) { a, b in Ranking.above(a, b, in: scores) }
        }
        IndexSort.sort(out, count: k) { a, b in a < b }
    }
}
