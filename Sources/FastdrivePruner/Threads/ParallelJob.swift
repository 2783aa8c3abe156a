// ParallelJob.swift — the unit of work a WorkerPool runs: one object, many task indices.

/// Work split into independent tasks (a phase of the forward pass, a similarity pass). Jobs are
/// classes created once at create that hold the running call's context for the length of one
/// `WorkerPool.run`: publishing a class reference to the workers allocates nothing, whereas
/// handing them a closure would box its context on every call.
protocol ParallelJob: AnyObject {
    /// Runs task `task` (0 ..< the count given to `WorkerPool.run`) on worker `worker`
    /// (0 ..< threadCount, for per-worker scratch).
    func run(task: Int, worker: Int)
}
