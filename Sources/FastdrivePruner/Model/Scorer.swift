// Scorer.swift — phase 4: Hadamard fusion with the query output and the linear scorer.

/// S_i = (H[1+i] ⊙ hq) · w_s + b_s, computed as H[1+i] · (hq ⊙ w_s) + b_s, one slice of
/// tokens per task.
final class ScorerPhase: ParallelJob {
    let weights: WeightSet
    let workspace: Workspace
    var tokens = 0
    var perTask = 0
    var scores: MatrixView?

    init(weights: WeightSet, workspace: Workspace) {
        self.weights = weights
        self.workspace = workspace
    }

    /// fused = hq ⊙ w_s, once per frame (hq = H[0]); then `tasks` slices of the tokens.
    func prepare(tokens: Int, tasks: Int, scores: MatrixView) {
        self.tokens = tokens
        perTask = (tokens + tasks - 1) / tasks
        self.scores = scores
        Kernels.multiply(out: workspace.fused, workspace.x.readOnly.row(0), weights.scorer)
    }

    func run(task: Int, worker: Int) {
        guard let scores else { return }
        let t0 = task * perTask
        guard t0 < tokens else { return }
        let n = min(perTask, tokens - t0)
        Kernels.dotRows(out: scores.columns(t0, n), workspace.x.readOnly.rows(1 + t0, n),
                        workspace.fused.readOnly.row(0), bias: weights.scorerBias)
    }
}
