// VisPruner.swift — VISPRUNER: important tokens by host importance, the rest by removing
// near-duplicates (Zhang et al., ICCV 2025, arXiv 2412.01818).

/// The rule of VisPruner's official code (Theia-4869/VisPruner, llava/model/llava_arch.py,
/// `encode_images`), with `aux` in place of the [CLS] attention:
/// 1. T_imp = ⌊K·r⌋ (the code's `int(visual_token_num * important_ratio)`), T_div = K − T_imp.
/// 2. Order all tokens by aux, descending (ties: lower index first). The first T_imp are the
///    important tokens; the rest, in that order, are the residual list.
/// 3. Normalise the residual tokens (v/‖v‖). While R = |residual| > T_div: r = min(8, R − T_div);
///    split the list alternately, a = positions 0, 2, 4, …, b = positions 1, 3, 5, …; score each
///    a-token by its largest cosine similarity to any b-token; order the a-tokens by that score,
///    descending (ties: earlier position first), drop the first r of them, and continue with
///    [kept a-tokens in that order] + [b-tokens in their order].
/// 4. Keep the important tokens and the T_div residual tokens left.
/// (The reference's argsort is not stable and its gather assumes R even; the stable order and
/// the ⌈R/2⌉-token a-set here are the natural reading, identical whenever the reference runs.)
///
/// Cost: one O(R₀²·D/2) Gram pass over the R₀ = N − T_imp residual tokens into the arena's
/// cosine matrix (on the handle's workers), then (R₀ − T_div)/8 rounds of R²/4 look-ups. A handle created with
/// max_tokens above SelectionScratch.similarityCap has no matrix and recomputes each dot
/// product per round instead (same values, same order; much slower).
enum VisPruner {
    /// `scratch.tokens` rows 0 ..< n hold the f32 tokens (read, not modified).
    static func select(n: Int, k: Int, aux: VectorView, ratio: Double, scratch: SelectionScratch,
                       passes: SimilarityPasses, into out: IndexBuffer) {
        let important = min(k, Int((Double(k) * ratio).rounded(.down)))
        let diverse = k - important
        let order = scratch.order, flags = scratch.flags
        for i in 0..<n { order[i] = i }
        IndexSort.sort(order, count: n) { a, b in Ranking.above(a, b, in: aux) }
        Kernels.fill(flags.row(n), value: 0)
        for p in 0..<important { flags[order[p]] = 1 }
        if diverse > 0 {
            let count = removeDuplicates(residualFrom: important, n: n, keep: diverse, scratch: scratch, passes: passes)
            // residual[0 ..< count] are positions p: token order[important + p].
            for t in 0..<count { flags[order[important + scratch.residual[t]]] = 1 }
        }
        if passes.shouldStop() { return }  // `out` untouched: it is written last
        IndexSort.emitMarked(flags, n: n, mark: 1, into: out)
    }

    /// Step 3 over the tokens order[start ..< n]; returns how many positions are left in
    /// scratch.residual (always `keep`).
    private static func removeDuplicates(residualFrom start: Int, n: Int, keep: Int,
                                         scratch: SelectionScratch, passes: SimilarityPasses) -> Int {
        let order = scratch.order, residual = scratch.residual, next = scratch.next, rank = scratch.rank
        let maxSimilarity = scratch.values
        let count0 = n - start
        let rows = scratch.gathered.rows(0, count0)
        for p in 0..<count0 {
            Kernels.copy(out: rows.rows(p, 1), scratch.tokens.readOnly.rows(order[start + p], 1))
        }
        Kernels.l2NormalizeRows(rows)
        let x = rows.readOnly
        let matrix = scratch.similarity.map { $0.reshaped(rows: count0, cols: count0) }
        if let matrix { passes.matrix(matrix, x) }

        for p in 0..<count0 { residual[p] = p }
        var count = count0
        while true {
            let r = min(8, count - keep)
            if r <= 0 || passes.shouldStop() { break }
            let aCount = (count + 1) / 2, bCount = count / 2
            for i in 0..<aCount {
                let p = residual[2 * i]
                var best = -Float.infinity
                if let matrix {
                    for j in 0..<bCount { best = max(best, Kernels.element(matrix, p, residual[2 * j + 1])) }
                } else {
                    for j in 0..<bCount { best = max(best, Kernels.dot(x, p, residual[2 * j + 1])) }
                }
                maxSimilarity[i] = best
                rank[i] = i
            }
            let similarities = maxSimilarity.prefix(aCount)
            IndexSort.sort(rank, count: aCount) { a, b in Ranking.above(a, b, in: similarities) }
            var w = 0
            for t in min(r, aCount)..<aCount {
                next[w] = residual[2 * rank[t]]
                w += 1
            }
            for j in 0..<bCount {
                next[w] = residual[2 * j + 1]
                w += 1
            }
            for t in 0..<w { residual[t] = next[t] }
            count = w
        }
        return count
    }
}
