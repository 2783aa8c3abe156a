// Pruner.swift — a loaded ReconPruner: weights, plan, arena, workers; score and top-K.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything one handle owns. Created once (all allocation happens here), then `score` and
/// `topK` run allocation-free. One thread at a time; separate instances are independent.
public final class Pruner {
    public let config: PrunerConfig
    public let options: PrunerOptions
    public let header: SafetensorsHeader
    /// Bytes of weights read in place from the mapping / converted into owned memory.
    public var mappedWeightBytes: Int { model.weights.mappedBytes }
    public var convertedWeightBytes: Int { model.weights.convertedBytes }
    public let arenaBytes: Int

    private let model: ReconPrunerModel
    private let pool: WorkerPool
    private let similarityPasses: SimilarityPasses
    private let arena: Arena

    /// Loads the weight file at `path`, given as UTF-8 text (tools and tests).
    public convenience init(path: String, options: PrunerOptions) throws(PrunerError) {
        try self.init(path: RawPath(path), options: options)
    }

    /// Loads the weight file at `path`, given as the bytes the host passed (any encoding).
    public init(path: RawPath, options: PrunerOptions) throws(PrunerError) {
        let file = try MappedFile(path: path)
        header = try SafetensorsHeader(file: file.bytes)
        config = try PrunerConfig(metadata: header.metadata)
        let weights = try WeightSet(file: file, header: header, config: config, compute: options.compute)
        self.options = options

        let layout = ArenaLayout(config: config, maxTokens: options.maxTokens, threads: options.threads,
                                 compute: options.compute)
        guard let bytes = layout.totalBytes, bytes <= Arena.physicalMemoryBytes else {
            throw .outOfMemory("max_tokens = \(options.maxTokens) needs a \(layout.totalBytes.map { "\($0 >> 20) MiB" } ?? "overflowing") scratch arena, more than this machine's memory")
        }
        var arena = try Arena(bytes: bytes)
        let workspace = try Workspace(arena: &arena, layout: layout)
        self.arena = arena
        arenaBytes = bytes
        model = ReconPrunerModel(config: config, weights: weights, layout: layout, workspace: workspace)
        Kernels.useSingleThreadedBLAS()
        pool = try WorkerPool(threadCount: options.threads)
        similarityPasses = SimilarityPasses(pool: pool, partialBest: workspace.selection.partialBest)
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
        beginBatch()
        try addFrame(tokens, index: nil)
        return try scoreStaged()
    }

    /// Batch scoring, step 1: forget the previous call's frames.
    func beginBatch() { model.beginFrames() }

    /// Batch scoring, step 2 (per frame): validate the frame, stack its tokens after the
    /// previous frames' rows. The batch must fit max_tokens + 1 rows (each frame adds its tokens
    /// and one query row).
    func addFrame(_ t: TokenView, index: Int?) throws(PrunerError) {
        try check(t)
        let frames = model.frames
        guard frames.count < FrameList.capacity else {
            throw .invalidArgument("more than \(FrameList.capacity) frames in one batch")
        }
        guard frames.rows + t.n + 1 <= options.maxTokens + 1 else {
            throw .capacity(index == nil
                ? "\(t.n) tokens but the handle was created with max_tokens = \(options.maxTokens)"
                : "frames 0...\(index!) need \(frames.tokens + t.n) tokens + \(frames.count) extra query rows, more than max_tokens = \(options.maxTokens) (create with max_tokens >= total tokens + frames - 1)")
        }
        let rows = model.appendFrame(tokens: t.n, gridW: t.gridW)
        if let (row, col) = t.convert(rows: 0, count: t.n, into: rows) {
            throw .nonFinite("token \(row), element \(col) is NaN or Inf")
        }
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
        let n = model.frames.tokens, staged = model.workspace.selection.scores.row(n)
        Kernels.useSingleThreadedBLAS()
        model.score(scores: staged, pool: pool)
        if let bad = Kernels.firstNaN(model.workspace.selection.scores.prefix(n)) {
            throw .nonFinite("score \(bad) is NaN: f32 overflow inside the layer (token or weight magnitudes near 3.4e38)")
        }
        return staged
    }

    /// Tokens of the frames added since `beginBatch`.
    var batchTokens: Int { model.frames.tokens }

    /// Runs only the GEMMs of a pass over `n` tokens, with the shapes and thread split of
    /// `score`: benchmarks compare the two to report the time spent outside GEMM. Not API.
    public func runGEMMsOnly(tokens n: Int) throws(PrunerError) {
        guard n >= 1, n <= options.maxTokens else {
            throw .capacity("\(n) tokens but the handle was created with max_tokens = \(options.maxTokens)")
        }
        model.beginFrames()
        _ = model.appendFrame(tokens: n, gridW: 1)
        Kernels.useSingleThreadedBLAS()
        model.score(scores: nil, pool: pool, gemmOnly: true)
    }

    /// The checks SPEC §3 gives their own status: dim, capacity, grid. The grid is required
    /// when the layer runs under rope = mrope, and checked against n whenever it is given.
    private func check(_ t: TokenView, scored: Bool = true) throws(PrunerError) {
        guard t.dim == config.hiddenSize else {
            throw .shape("tokens->dim = \(t.dim) but the pruner's hidden_size is \(config.hiddenSize)")
        }
        guard t.n <= options.maxTokens else {
            throw .capacity("\(t.n) tokens but the handle was created with max_tokens = \(options.maxTokens)")
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
            throw .capacity("n = \(n) scores but the handle was created with max_tokens = \(options.maxTokens)")
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
        let scratch = model.workspace.selection
        if request.policy == .reconPruner && request.aux == nil {
            _ = try scoreToScratch(tokens)  // into scratch.scores, NaN already rejected
        } else {
            try check(tokens, scored: false)
            if request.policy.readsTokenValues,
               let (row, col) = tokens.convert(rows: 0, count: n, into: scratch.tokens.rows(0, n)) {
                throw .nonFinite("token \(row), element \(col) is NaN or Inf")
            }
        }
        // RECONPRUNER and ATTENTION rank `aux` while writing `out`, which may overlap it: rank a
        // copy. (VISPRUNER reads aux only before it writes, the other policies never.)
        var staged = request
        if let aux = request.aux, request.policy == .reconPruner || request.policy == .attention {
            staged.aux = stage(aux)
        }
        Selection.run(staged, n: n, scratch: scratch, passes: similarityPasses, into: out)
    }

    /// A copy of the host's `values` in the arena's selection scores (n <= max_tokens, its size),
    /// so that writing the host's output cannot change what is being ranked. O(n), no allocation.
    private func stage(_ values: VectorView) -> VectorView {
        let scratch = model.workspace.selection.scores
        Kernels.copy(out: scratch.row(values.count), values.asRow)
        return scratch.prefix(values.count)
    }
}
