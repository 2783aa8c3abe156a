// Selection.swift — runs one validated fastdrive_select request with the policy's rule.

enum Selection {
    /// Writes request.k ascending indices of 0 ..< n into `out`. Everything is validated
    /// (Pruner.select); the tokens are already in scratch.tokens rows 0 ..< n when the policy
    /// reads them, and the scores in scratch.scores for RECONPRUNER without aux.
    static func run(_ request: SelectionRequest, n: Int, scratch: SelectionScratch, passes: SimilarityPasses,
                    into out: IndexBuffer) {
        let k = request.k
        switch request.policy {
        case .reconPruner:
            TopK.select(request.aux ?? scratch.scores.prefix(n), k: k, into: out)
        case .attention:
            TopK.select(request.aux!, k: k, into: out)
        case .norm:
            // Σx² ranks exactly as ‖x‖₂ (sqrt is monotone) without a rounding step.
            Kernels.sumSquares(out: scratch.scores.row(n), scratch.tokens.readOnly.rows(0, n))
            TopK.select(scratch.scores.prefix(n), k: k, into: out)
        case .divPrune:
            DivPrune.select(n: n, k: k, scratch: scratch, passes: passes, into: out)
        case .visPruner:
            VisPruner.select(n: n, k: k, aux: request.aux!, ratio: request.importantRatio, scratch: scratch,
                             passes: passes, into: out)
        case .uniform:
            Uniform.select(n: n, k: k, into: out)
        case .random:
            RandomSelection.select(n: n, k: k, seed: request.seed, scratch: scratch, into: out)
        case .dart:
            Dart.select(n: n, request: request, scratch: scratch, passes: passes, into: out)
        case .cdPruner:
            CDPruner.select(n: n, k: k, aux: request.aux!, theta: request.relevanceTheta, scratch: scratch,
                            passes: passes, into: out)
        }
    }
}
