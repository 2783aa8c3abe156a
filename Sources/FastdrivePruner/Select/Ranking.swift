// Ranking.swift — the one order every ranking policy sorts by: higher value first, ties to the lower index.

enum Ranking {
    /// Whether index a ranks above index b in `values`: a higher value, or an equal value and a
    /// lower index. A strict total order on indices when `values` has no NaN, so every sort and
    /// selection by it has exactly one result.
    @inline(__always)
    static func above(_ a: Int, _ b: Int, in values: VectorView) -> Bool {
        values[a] > values[b] || (values[a] == values[b] && a < b)
    }
}
