// DivPrune.swift — DIVPRUNE: greedy max-min diversity on cosine distance (Alvar et al., CVPR 2025).

/// The rule of DivPrune's reference implementation (vbdi/divprune, `DivPrune()`), with the
/// distance d(i, j) = 1 − cos(v_i, v_j):
/// 1. Seed: the token whose nearest neighbour is farthest, argmax_j min_{i≠j} d(i, j) (the
///    reference's second-smallest entry of each column of the N×N distance matrix).
/// 2. Repeat K − 1 times: add the unselected token with the largest distance to its nearest
///    selected token, argmax_j min_{s∈S} d(s, j).
/// Ties go to the lower index; a selected token is never picked again (the reference can
/// re-pick one when every remaining distance equals its self-distance, e.g. duplicated rows).
///
/// Cost: the seed needs every pair once, O(N²·D/2) multiply-adds with O(N) memory (a tiled
/// pass keeps only each token's best similarity: no N×N matrix); the greedy steps keep each
/// token's min distance and update it with one row of dot products per pick, O(N·K·D) with
/// O(N) memory. Dot products use one summation order (CKernels/select.c), f32 throughout;
/// both passes run on the handle's workers (SimilarityPasses).
enum DivPrune {
    /// `scratch.tokens` rows 0 ..< n hold the f32 tokens; they are normalised in place.
    static func select(n: Int, k: Int, scratch: SelectionScratch, passes: SimilarityPasses, into out: IndexBuffer) {
        let x = scratch.tokens.rows(0, n)
        Kernels.l2NormalizeRows(x)
        let minDistance = scratch.values
        // Seed: nearest-neighbour similarity of every token, then its distance.
        passes.nearest(best: minDistance.row(n), x.readOnly)
        if passes.shouldStop() { return }
        for j in 0..<n { minDistance[j] = 1 - minDistance[j] }
        var pick = Kernels.argmax(minDistance.row(n))
        Kernels.fill(minDistance.row(n), value: .infinity)
        for _ in 1..<k {
            if passes.shouldStop() { return }  // `out` untouched: it is written last
            minDistance[pick] = -.infinity                      // −∞ marks "selected"
            passes.updateMinDistance(minDistance.row(n), x.readOnly, from: pick)
            pick = Kernels.argmax(minDistance.row(n))
        }
        if passes.shouldStop() { return }
        minDistance[pick] = -.infinity
        IndexSort.emitMarked(minDistance, n: n, mark: -.infinity, into: out)
    }
}
