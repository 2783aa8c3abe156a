// CDPruner.swift — CDPRUNER: greedy MAP of a conditional DPP over the tokens (Zhang et al., 2025,
// arXiv 2506.10967), as Intel's OpenVINO GenAI ships it, with the host's relevance in `aux`.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The rule of the authors' code (Theia-4869/CDPruner: relevance, `theta`, kernel and
/// `conditional_dpp_map`), where the paper and code leave room:
/// - Relevance: the host's `aux` (e.g. cosine to the instruction embedding; higher = more
///   relevant), min-max normalised as the code does, r = (a − min)/(max − min + 1e-6), in f64.
///   θ < 1 weights it as the code's option: r ← exp(α r), α = θ/(2(1 − θ)); θ = 1 keeps r.
/// - Similarity: cosines of the L2-normalised f32 tokens, the diagonal exactly 1 (0 for an
///   all-zero token, whose cosines are all 0), so L = diag(r) S diag(r).
/// - Greedy (fast Cholesky MAP, Chen et al. 2018): d²ᵢ = Lᵢᵢ; K times j = argmax d² over the
///   unpicked tokens (ties: lower index); eₙ = (L_jn − Σ_t c_t[j] c_t[n]) / √(max(d²ⱼ, 0) + 1e-5) for
///   every unpicked n; cᵢ = e; d² −= e². d², the Σ and e are f64; c is stored f32 [N × K].
///   Identical tokens with equal relevance therefore tie exactly and go by index.
///
/// Cost: one row of N dot products per pick (N·K·D) plus the projections (N·K²/2 f64), both on
/// the handle's workers; the argmax per pick is serial, O(N·K). Memory: c in the arena's N×N
/// similarity matrix (so max_tokens <= SelectionScratch.similarityCap), d² in the gathered
/// rows, r in the scores: nothing is allocated.
enum CDPruner {
    /// The authors' stabilisers: the min-max denominator's and the Cholesky step's.
    static let rangeEpsilon = 1e-6
    static let stepEpsilon = 1e-5

    /// `scratch.tokens` rows 0 ..< n hold the f32 tokens; they are normalised in place.
    static func select(n: Int, k: Int, aux: VectorView, theta: Double, scratch: SelectionScratch,
                       passes: SimilarityPasses, into out: IndexBuffer) {
        let x = scratch.tokens.rows(0, n)
        // Zero rows keep S_ii = 0: their squared norms, before normalising.
        let quality = scratch.scores
        Kernels.sumSquares(out: quality.row(n), x.readOnly)
        // d² (f64) in the gathered rows, idle here: 2n floats fit, d >= 2 (head_dim is even).
        assert(2 * n <= scratch.gathered.rows * scratch.gathered.rowStride)
        let d2 = UnsafeMutableRawPointer(scratch.gathered.base).bindMemory(to: Double.self, capacity: n)
        var lo = Double(aux[0]), hi = Double(aux[0])
        for i in 0..<n { lo = min(lo, Double(aux[i])); hi = max(hi, Double(aux[i])) }
        let alpha = theta == 1 ? 0 : theta / (2 * (1 - theta))
        for i in 0..<n {
            var r = (Double(aux[i]) - lo) / (hi - lo + rangeEpsilon)
            if theta != 1 { r = exp(alpha * r) }
            let q = Float(r)
            d2[i] = quality[i] > 0 ? Double(q) * Double(q) : 0
            quality[i] = q
        }
        Kernels.l2NormalizeRows(x)
        let factors = scratch.similarity!.reshaped(rows: n, cols: k)
        for step in 0..<k {
            if passes.shouldStop() { return }  // `out` untouched: it is written last
            let j = Kernels.argmax(d2, count: n)
            // Rounding can take a d² past the tokens' rank slightly below 0: it counts as 0.
            let den = (max(d2[j], 0) + stepEpsilon).squareRoot()
            d2[j] = -.infinity                                // −∞ marks "picked"
            if step + 1 < k {
                passes.dppStep(d2: d2, factors: factors, step: step, pick: j, quality: quality.prefix(n), den: den,
                               x.readOnly)
            }
        }
        var w = 0
        for i in 0..<n where d2[i] == -.infinity {
            out[w] = i
            w += 1
        }
        assert(w == k)
    }
}
