// Scorer.swift — phase 4: Hadamard fusion with the query output and the linear scorer.

/// S_i = (H[1+i] ⊙ hq) · w_s + b_s, computed as H[1+i] · (hq ⊙ w_s) + b_s, for one frame at a
/// time, one slice of its tokens per task.
final class ScorerPhase: ParallelJob {
    let weights: WeightSet
    let workspace: Workspace
    private var frame: FrameList.Frame?
    private var perTask = 0
    private var scores: MatrixView?

    init(weights: WeightSet, workspace: Workspace) {
        self.weights = weights
        self.workspace = workspace
    }

    /// fused = hq ⊙ w_s for `frame` (hq = its H row 0); its scores go to `scores` at the
    /// frame's offset, in `tasks` slices.
    func prepare(frame: FrameList.Frame, tasks: Int, scores: MatrixView) {
        self.frame = frame
        perTask = (frame.rows - 1 + tasks - 1) / tasks
        self.scores = scores
        Kernels.multiply(out: workspace.fused, workspace.x.readOnly.row(frame.start), weights.scorer)
    }

    func run(task: Int, worker: Int) {
        guard let scores, let frame else { return }
        let tokens = frame.rows - 1, t0 = task * perTask
        guard t0 < tokens else { return }
        let n = min(perTask, tokens - t0)
        Kernels.dotRows(out: scores.columns(frame.scoreOffset + t0, n), workspace.x.readOnly.rows(frame.start + 1 + t0, n),
                        workspace.fused.readOnly.row(0), bias: weights.scorerBias)
    }
}
