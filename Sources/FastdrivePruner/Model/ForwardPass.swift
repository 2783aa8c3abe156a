// ForwardPass.swift — runs the phases of one pass on the worker pool, in order, with one context.

/// The job the pool runs for every phase of a pass. The phases hold only what create gave them
/// (weights, config, workspace); what belongs to the call travels in the `PassContext` given to
/// `run`, the same value for every phase and task. Each phase is one `WorkerPool.run`, whose
/// return is the barrier after which the next phase may read its outputs.
///
/// Every task of every phase starts in `run(task:worker:)`, on whichever worker takes it: a
/// per-task check that must reach all phases (a host's abort request) belongs there.
final class ForwardPass: ParallelJob {
    private enum Step { case projections, attention, outputProjection, queryGateUp, queryDown, queryFold, mlp, scores }

    private let projections: ProjectionPhase
    private let attention: AttentionPhase
    private let outputProjection: OutputProjectionPhase
    private let queryRows: QueryRowsPhase
    private let mlp: MLPPhase
    /// The step being run and its call's context: set by `run(_:pool:)` only, for the duration
    /// of one pool run (the pool publishes it to the workers under its lock). A struct, not a
    /// tuple: a tuple's type metadata is built (and allocated) at run time on first use.
    private struct Running {
        let step: Step
        let pass: PassContext
    }
    private var current: Running?

    init(config: PrunerConfig, weights: WeightSet, plan: ForwardPlan, workspace: Workspace) {
        projections = ProjectionPhase(weights: weights, config: config, workspace: workspace)
        attention = AttentionPhase(config: config, workspace: workspace, plan: plan)
        outputProjection = OutputProjectionPhase(weights: weights, config: config, workspace: workspace)
        queryRows = QueryRowsPhase(weights: weights, config: config, workspace: workspace)
        mlp = MLPPhase(weights: weights, config: config, workspace: workspace)
    }

    /// Attention tasks of one frame of `rows` rows (FrameList numbers them when a frame is staged).
    func attentionTasks(rows: Int) -> Int { attention.tasks(rows: rows) }

    /// The six phases: (1) rms1 + q/k/v + RoPE per row chunk, (2) attention per KV head and
    /// query block, (3) o_proj + rms2 per row chunk, (4) the query rows' MLP and the scorer's fold
    /// in three column-split steps, (5) the visual rows' gate/up per row chunk and column slice,
    /// each ending in the slice's share of the folded score, (6) the scores per row chunk.
    /// Returns false when the call was aborted (pass.abort says why); the workspace then holds
    /// partial results, which the next call overwrites before reading.
    func run(_ pass: PassContext, pool: WorkerPool) -> Bool {
        defer { current = nil }
        guard run(.projections, tasks: pass.chunkCount, pass, pool),
              run(.attention, tasks: pass.frames.attentionTasks, pass, pool),
              run(.outputProjection, tasks: pass.chunkCount, pass, pool) else { return false }
        queryRows.prepare(pass)
        return run(.queryGateUp, tasks: pass.columnTasks, pass, pool)
            && run(.queryDown, tasks: pass.columnTasks, pass, pool)
            && run(.queryFold, tasks: pass.columnTasks, pass, pool)
            && run(.mlp, tasks: mlp.tasks(chunks: pass.chunkCount), pass, pool)
            && run(.scores, tasks: pass.chunkCount, pass, pool)
    }

    /// One phase; false when the call was aborted during it (its remaining tasks return at once).
    private func run(_ step: Step, tasks: Int, _ pass: PassContext, _ pool: WorkerPool) -> Bool {
        current = Running(step: step, pass: pass)
        pool.run(tasks: tasks, self)
        return pass.abort.reason == .none
    }

    func run(task: Int, worker: Int) {
        guard let running = current, !running.pass.shouldStop() else { return }
        let pass = running.pass
        switch running.step {
        case .projections: projections.run(task: task, worker: worker, pass)
        case .attention: attention.run(task: task, worker: worker, pass)
        case .outputProjection: outputProjection.run(task: task, worker: worker, pass)
        case .queryGateUp: queryRows.run(.gateUp, task: task, worker: worker, pass)
        case .queryDown: queryRows.run(.down, task: task, worker: worker, pass)
        case .queryFold: queryRows.run(.fold, task: task, worker: worker, pass)
        case .mlp: mlp.run(task: task, worker: worker, pass)
        case .scores: mlp.score(task: task, pass)
        }
    }
}
