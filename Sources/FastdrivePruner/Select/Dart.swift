// Dart.swift — DART: duplication-aware token reduction around a few pivots (Wen et al., 2025,
// arXiv 2502.11494), at the embedding level as NVIDIA's TensorRT-Edge-LLM ships it.

/// The rule of the authors' code (ZichenWen1/DART, `get_retained_image_token`) on the tokens
/// themselves, with the choices the code leaves open made explicit:
/// 1. Image pivots: the request's `imagePivots` tokens of largest L1 norm, in descending-norm
///    order (ties: lower index). Text pivots: the `textPivots` host rows of largest L1 norm.
/// 2. The K − p_img tokens left are shared out in pivot order (image pivots, then text pivots):
///    the first (K − p_img) mod P pivots take ⌈(K − p_img)/P⌉, the others ⌊(K − p_img)/P⌋.
///    The code gives every pivot ⌊K/P⌋, which keeps p_img + P·⌊K/P⌋ tokens, not K; this share
///    keeps exactly K and is otherwise the same.
/// 3. Pivot by pivot, its share is the still-free non-pivot tokens of lowest cosine similarity
///    to it (the code's `topk(-cos)`; ties: lower index); they are taken.
/// Kept: the image pivots and every share, ascending. Cosines are dot products of L2-normalised
/// f32 rows in the one canonical order (an all-zero row stays zero: cosine 0 with everything).
///
/// Cost: P ≤ 64 rows of N dot products, O(P·N·D), on the handle's workers, plus one
/// O(N log share) selection per pivot. Nothing is allocated: the L1 norms, the cosine row and
/// the marks live in the selection scratch.
enum Dart {
    /// `scratch.tokens` rows 0 ..< n hold the f32 tokens; they are normalised in place. Row n is
    /// the staging row of a host pivot.
    static func select(n: Int, request: SelectionRequest, scratch: SelectionScratch, passes: SimilarityPasses,
                       into out: IndexBuffer) {
        let k = request.k, pImage = request.imagePivots, pText = request.textPivots
        let x = scratch.tokens.rows(0, n)
        let order = scratch.order, textOrder = scratch.rank, share = scratch.residual
        // 1. Pivots by L1 norm, before the rows are normalised.
        Kernels.l1Norms(out: scratch.scores.row(n), x.readOnly)
        for i in 0..<n { order[i] = i }
        let l1 = scratch.scores.prefix(n)
        IndexSort.sort(order, count: n) { a, b in Ranking.above(a, b, in: l1) }
        let staging = scratch.tokens.rows(n, 1)
        if let rows = request.pivotRows, pText > 0 {
            let textL1 = scratch.values
            for t in 0..<rows.n {
                stage(rows, t, into: staging)
                Kernels.l1Norms(out: textL1.row(rows.n).columns(t, 1), staging.readOnly)
            }
            for t in 0..<rows.n { textOrder[t] = t }
            let norms = textL1.prefix(rows.n)
            IndexSort.sort(textOrder, count: rows.n) { a, b in Ranking.above(a, b, in: norms) }
        }
        Kernels.l2NormalizeRows(x)

        // 2–3. Marks: 1 = kept (pivot or taken), 0 = free.
        let kept = scratch.flags
        Kernels.fill(kept.row(n), value: 0)
        for p in 0..<pImage { kept[order[p]] = 1 }
        let budget = k - pImage, pivots = pImage + pText
        let negCos = scratch.values
        for p in 0..<pivots {
            let count = budget / pivots + (p < budget % pivots ? 1 : 0)
            if count == 0 { continue }
            let pivot: VectorView
            if p < pImage {
                pivot = x.readOnly.row(order[p])
            } else {
                stage(request.pivotRows!, textOrder[p - pImage], into: staging)
                Kernels.l2NormalizeRows(staging)
                pivot = staging.readOnly.row(0)
            }
            passes.dots(negCos.row(n), x.readOnly, toward: pivot)
            if passes.shouldStop() { return }  // `out` untouched: it is written last
            // Lowest cosine first = highest −cos; taken tokens rank below every free one.
            for i in 0..<n { negCos[i] = kept[i] == 1 ? -.infinity : -negCos[i] }
            TopK.select(negCos.prefix(n), k: count, into: share)
            for t in 0..<count { kept[share[t]] = 1 }
        }
        IndexSort.emitMarked(kept, n: n, mark: 1, into: out)
    }

    /// Host pivot row t as f32 in `row` (checked finite by Pruner.select).
    private static func stage(_ rows: TokenView, _ t: Int, into row: MatrixView) {
        _ = Kernels.convertToF32(out: row.base, source: rows.row(t), dtype: rows.dtype, count: rows.dim)
    }
}
