// Pruner.swift — a loaded ReconPruner: weights, plan, arena, workers; score, top-K and select.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything one handle owns. Created once (all allocation happens here), then `score`,
/// `topK` and `select` run allocation-free. One thread at a time; separate instances are
/// independent. This is where the C entry points land (ABI/), and the checks here are the
/// ones docs/abi.md gives their own status: shape, capacity, finite values. `package` only for
/// what the CLI's benchmark needs; the API is the C header.
package final class Pruner {
    let config: PrunerConfig
    let options: PrunerOptions
    let header: SafetensorsHeader
    /// Bytes of weights read in place from the file / converted into owned memory.
    var mappedWeightBytes: Int { model.weights.mappedBytes }
    var convertedWeightBytes: Int { model.weights.convertedBytes }
    let arenaBytes: Int

    private let model: ReconPrunerModel
    private let selection: SelectionScratch
    private let pool: WorkerPool
    private let similarityPasses: SimilarityPasses
    private let arena: Arena
    /// The host's abort callback and request flag, polled by every task of score and select.
    private let abort: AbortSignal

    /// Loads the weight file at `path`, given as UTF-8 text (tools and tests).
    package convenience init(path: String, options: PrunerOptions) throws(PrunerError) {
        try self.init(path: RawPath(path), options: options)
    }

    /// Loads the weight file at `path`, given as the bytes the host passed (any encoding).
    package init(path: RawPath, options: PrunerOptions) throws(PrunerError) {
        let file: any FileBytes = switch options.loading {
        case .mmap: try MappedFile(path: path)
        case .read: try OwnedFile(path: path, host: options.host)
        }
        header = try SafetensorsHeader(file: file.bytes)
        config = try PrunerConfig(metadata: header.metadata)
        let weights = try WeightSet(file: file, header: header, config: config, compute: options.compute, host: options.host)
        self.options = options

        let plan = ForwardPlan(config: config, maxTokens: options.maxTokens, threads: options.threads,
                               compute: options.compute)
        guard let bytes = HandleScratch.bytes(for: plan) else {
            throw .outOfMemory("max_tokens = \(options.maxTokens): the scratch arena's size overflows")
        }
        try SystemMemory.require(bytes, for: "max_tokens = \(options.maxTokens), num_threads = \(options.threads): the scratch arena",
                                 in: options.host)
        var arena = try Arena(bytes: bytes)
        let scratch = try HandleScratch(carving: &arena, plan: plan)
        scratch.model.fillTables(config)
        self.arena = arena
        arenaBytes = bytes
        selection = scratch.selection
        abort = AbortSignal(callback: options.abortCallback, userData: options.abortUserData)
        model = ReconPrunerModel(config: config, weights: weights, plan: plan, workspace: scratch.model, abort: abort)
        Kernels.prepareBLASThreads(options.blasThreads)
        pool = try WorkerPool(threadCount: options.threads)
        similarityPasses = SimilarityPasses(pool: pool, partialBest: selection.partialBest, abort: abort)
    }

    /// fastdrive_pruner_request_abort / _reset_abort: any thread, any time while the handle lives.
    func requestAbort() { abort.request() }
    func resetAbort() { abort.reset() }

    /// Starts a call that polls the abort state: forgets the last call's verdict, then stops at
    /// once if a request is pending or the callback already says so.
    private func beginAbortableCall() throws(PrunerError) {
        abort.beginCall()
        if abort.shouldStop() { try throwIfAborted() }
    }

    /// ABORTED, saying who stopped the call, if it was stopped.
    private func throwIfAborted() throws(PrunerError) {
        switch abort.reason {
        case .none: return
        case .callback: throw .aborted("stopped: the abort callback returned true")
        case .request: throw .aborted("stopped: fastdrive_pruner_request_abort was called (it holds until fastdrive_pruner_reset_abort)")
        }
    }

    /// Scores `tokens` into `scores` (1 × n). Validates shape, capacity and finiteness first;
    /// on error nothing is written to `scores`.
    func score(_ tokens: TokenView, into scores: MatrixView) throws(PrunerError) {
        let staged = try scoreToScratch(tokens)
        Kernels.copy(out: scores, staged.readOnly)
    }

    /// Validates and scores one frame into arena scratch (the selection scores) and returns
    /// that view; `select` ranks it in place.
    func scoreToScratch(_ tokens: TokenView) throws(PrunerError) -> MatrixView {
        try beginBatch()
        try addFrame(tokens, index: nil)
        return try scoreStaged()
    }

    /// Batch scoring, step 1: forget the previous call's frames.
    func beginBatch() throws(PrunerError) {
        model.beginCall()
        try beginAbortableCall()
    }

    /// Batch scoring, step 2 (per frame): validate the frame, stack its tokens after the
    /// previous frames' rows. The batch must fit max_tokens + 1 rows (each frame adds its tokens
    /// and one query row).
    func addFrame(_ t: TokenView, index: Int?) throws(PrunerError) {
        try check(t)
        guard model.stagedFrames < FrameList.capacity else {
            throw .invalidArgument("more than \(FrameList.capacity) frames in one batch")
        }
        guard model.stagedRows + t.n + 1 <= options.maxTokens + 1 else {
            // A single frame that fits max_tokens always fits (check above): this is a batch.
            throw .capacity("frames 0...\(index ?? 0) need \(model.stagedTokens + t.n) tokens + \(model.stagedFrames) extra query rows, more than max_tokens = \(options.maxTokens) (create with max_tokens >= total tokens + frames - 1)")
        }
        if let (row, col) = model.stage(t) {
            throw .nonFinite("token \(row), element \(col) is NaN or Inf")
        }
        try throwIfAborted()  // converting a frame polls too
    }

    /// Batch scoring, step 3: score every frame added, into `scores` (1 × total tokens).
    func scoreBatch(into scores: MatrixView) throws(PrunerError) {
        Kernels.copy(out: scores, try scoreStaged().readOnly)
    }

    /// Scores the frames added into arena scratch (batch tokens <= max_tokens, its size), then
    /// rejects a NaN score: finite tokens and weights near ±3.4e38 can overflow inside the f32
    /// layer (Inf − Inf). Staging keeps the host's buffer untouched on that error; ±Inf scores
    /// pass (top-K ranks them as numbers). No allocation.
    private func scoreStaged() throws(PrunerError) -> MatrixView {
        let n = model.stagedTokens, staged = selection.scores.row(n)
        Kernels.beginBLASCall(options.blasThreads)
        let finished = model.score(into: staged, pool: pool)
        Kernels.endBLASCall(options.blasThreads)
        if !finished { try throwIfAborted() }
        if let bad = Kernels.firstNaN(selection.scores.prefix(n)) {
            throw .nonFinite("score \(bad) is NaN: f32 overflow inside the layer (token or weight magnitudes near 3.4e38)")
        }
        return staged
    }

    /// Tokens of the frames added since `beginBatch`.
    var batchTokens: Int { model.stagedTokens }

#if FASTDRIVE_BENCH_HOOKS
    /// Benchmarks only (built with the BenchHooks trait): runs just the matrix products of a
    /// pass over `n` tokens, with the shapes and thread split of `score`, so `bench` can report
    /// the time spent outside them.
    package func runGEMMsOnly(tokens n: Int) throws(PrunerError) {
        guard n >= 1, n <= options.maxTokens else {
            throw .overCapacity("\(n) tokens", maxTokens: options.maxTokens)
        }
        Kernels.beginBLASCall(options.blasThreads)
        defer { Kernels.endBLASCall(options.blasThreads) }
        model.runGEMMsOnly(tokens: n, scores: selection.scores.row(n), pool: pool)
    }
#endif

    /// The token checks with their own status (docs/abi.md): dim, capacity, grid. The grid is
    /// required when the layer runs under rope = mrope, and checked against n whenever it is given.
    private func check(_ t: TokenView, scored: Bool = true) throws(PrunerError) {
        guard t.dim == config.hiddenSize else {
            throw .shape("tokens->dim = \(t.dim) but the pruner's hidden_size is \(config.hiddenSize)")
        }
        guard t.n <= options.maxTokens else {
            throw .overCapacity("\(t.n) tokens", maxTokens: options.maxTokens)
        }
        if scored && config.rope == .mrope && !t.hasGrid {
            throw .shape("rope = mrope needs the token grid: set grid_h and grid_w (grid_h × grid_w = \(t.n))")
        }
        if t.hasGrid && (t.gridH == 0 || t.gridW == 0 || t.gridH * t.gridW != t.n) {
            throw .shape("grid \(t.gridH)×\(t.gridW) does not hold n_tokens = \(t.n)")
        }
    }

    /// Indices of the k highest of `scores` (1 × n) into `out` (1 × k), ascending; ties to the
    /// lower index. NaN scores are rejected; nothing is written on error. `out` may overlap
    /// `scores` (a host reusing one buffer): the ranking reads a copy staged in the arena.
    func topK(_ scores: VectorView, k: Int, into out: IndexBuffer) throws(PrunerError) {
        let n = scores.count
        guard n >= 1 else { throw .invalidArgument("n = \(n); need at least 1 score") }
        guard n <= options.maxTokens else {
            throw .overCapacity("n = \(n) scores", maxTokens: options.maxTokens)
        }
        guard k >= 1, k <= n else { throw .invalidArgument("k = \(k) is outside 1...n (n = \(n))") }
        if let bad = Kernels.firstNaN(scores) {
            throw .nonFinite("scores[\(bad)] is NaN")
        }
        TopK.select(stage(scores), k: k, into: out)
    }

    /// fastdrive_select: request.k ascending indices of `tokens` by the request's policy
    /// (Select/Selection.swift). Tokens are checked like `score` where they are scored (dim,
    /// capacity, grid, finite values); the other policies check dim, capacity and a given grid,
    /// and finiteness only if they read values. Nothing is written to `out` on error.
    func select(_ tokens: TokenView, _ request: SelectionRequest, into out: IndexBuffer) throws(PrunerError) {
        let n = tokens.n
        if request.policy == .reconPruner && request.aux == nil {
            _ = try scoreToScratch(tokens)  // into selection.scores, NaN already rejected
        } else {
            try check(tokens, scored: false)
            try beginAbortableCall()
            if request.policy.readsTokenValues,
               let (row, col) = Kernels.convertToF32(out: selection.tokens.rows(0, n), tokens: tokens) {
                throw .nonFinite("token \(row), element \(col) is NaN or Inf")
            }
        }
        if let rows = request.pivotRows { try checkPivotRows(rows) }
        if request.policy == .cdPruner && selection.similarity == nil {
            throw .capacity("FASTDRIVE_POLICY_CDPRUNER keeps its N×K factor in the arena's similarity matrix, planned only for max_tokens <= \(SelectionScratch.similarityCap) (this handle: \(options.maxTokens))")
        }
        // RECONPRUNER and ATTENTION rank `aux` while writing `out`, which may overlap it: rank a
        // copy. (VISPRUNER reads aux only before it writes, the other policies never.)
        var staged = request
        if let aux = request.aux, request.policy == .reconPruner || request.policy == .attention {
            staged.aux = stage(aux)
        }
        Selection.run(staged, n: n, scratch: selection, passes: similarityPasses, into: out)
        try throwIfAborted()  // a policy that stopped wrote nothing
    }

    /// DART's host pivot rows: the hidden size, at most max_tokens rows, every value finite
    /// (each row is converted once into the spare token row to check it; DART converts again).
    private func checkPivotRows(_ rows: TokenView) throws(PrunerError) {
        guard rows.dim == config.hiddenSize else {
            throw .shape("params->pivot_rows->dim = \(rows.dim) but the pruner's hidden_size is \(config.hiddenSize)")
        }
        guard rows.n <= options.maxTokens else {
            throw .overCapacity("params->pivot_rows: \(rows.n) rows", maxTokens: options.maxTokens)
        }
        let spare = selection.tokens.base + options.maxTokens * selection.tokens.rowStride
        for t in 0..<rows.n {
            if let col = Kernels.convertToF32(out: spare, source: rows.row(t), dtype: rows.dtype, count: rows.dim) {
                throw .nonFinite("params->pivot_rows row \(t), element \(col) is NaN or Inf")
            }
        }
    }

    /// A copy of the host's `values` in the arena's selection scores (n <= max_tokens, its size),
    /// so that writing the host's output cannot change what is being ranked. O(n), no allocation.
    private func stage(_ values: VectorView) -> VectorView {
        Kernels.copy(out: selection.scores.row(values.count), values.asRow)
        return selection.scores.prefix(values.count)
    }
}
