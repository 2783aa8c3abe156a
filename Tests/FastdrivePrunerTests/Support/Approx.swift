// Approx.swift — tolerance checks that report where and by how much values differ.

/// max |a − b| and its index.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> (value: Float, index: Int) {
    precondition(a.count == b.count)
    var worst: (Float, Int) = (0, 0)
    for i in a.indices where abs(a[i] - b[i]) > worst.0 || a[i].isNaN != b[i].isNaN { worst = (abs(a[i] - b[i]), i) }
    return worst
}

/// Whether |a − b| <= max(abs, rel · |b|), isApproximatelyEqual-style.
func approxEqual(_ a: Float, _ b: Float, rel: Float = 1e-5, abs absTol: Float = 1e-6) -> Bool {
    abs(a - b) <= max(absTol, rel * abs(b))
}

/// Indices of the k highest scores, ties to the lower index, ascending: docs/model.md's top-K rule by sorting.
func referenceTopK(_ s: [Float], _ k: Int) -> [Int] {
    Array(s.indices.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }.prefix(k)).sorted()
}
