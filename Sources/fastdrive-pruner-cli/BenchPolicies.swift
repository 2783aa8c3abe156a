// BenchPolicies.swift — `bench-policies`: the cost of every fastdrive_select policy beside score().

import ArgumentParser
import CFastdrivePruner
import FastdrivePruner

struct BenchPolicies: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-policies",
        abstract: "Time fastdrive_select for every policy (and score() alone) on one random frame, through the C ABI.",
        discussion: """
            The cases are interleaved: each run times every case once, in turn, so load on a shared \
            machine falls on all of them alike. Reported: median and fastest of the timed runs.
            """)

    @Argument(help: "ReconPruner weight file (.safetensors); see `init --config full`.")
    var weights: String
    @Option(help: "Tokens per frame (a square count gets a square grid).")
    var tokens: Int = 3249
    @Option(help: "Tokens to keep (0 = half, the paper's 50 % pruning).")
    var k: Int = 0
    @Option(help: "Worker threads of the handle (0 = the CPUs this process may use): score and the DivPrune/VisPruner/DART/CDPruner passes use them.")
    var threads: UInt32 = 0
    @Option(help: "Timed runs per case (after one warm-up).")
    var runs: Int = 3
    @Flag(help: "Print one JSON line per case instead of a table.")
    var json = false

    func validate() throws {
        guard tokens >= 1, tokens <= Int(UInt32.max) else {
            throw ValidationError("--tokens must be in 1...\(UInt32.max) (got \(tokens))")
        }
        guard k >= 0, k <= tokens else { throw ValidationError("--k must be in 0...tokens (0 = half; got \(k))") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (got \(runs))") }
    }

    func run() throws {
        let handle = try Handle(path: try RawArguments.path(weights), maxTokens: UInt32(tokens), threads: threads)
        let info = handle.info
        let d = Int(info.hidden_size)
        let keep = k == 0 ? max(1, tokens / 2) : k
        var rng = Xoshiro256(seed: 7)
        let values = rng.normals(tokens * d)
        let aux = rng.normals(tokens)
        // DART's host pivot rows: 16 random "text embeddings" (4 of them become pivots).
        let pivotValues = rng.normals(16 * d)
        let grid = try syntheticGrid(tokens)
        var scores = [Float](repeating: 0, count: tokens)
        var out = [Int64](repeating: 0, count: keep)
        struct Case {
            let name: String
            let policy: fastdrive_policy?
            var usesAux = false
            var pivotRows = false
        }
        let all: [Case] = [
            Case(name: "score (ReconPruner forward only)", policy: nil),
            Case(name: "RECONPRUNER (score + top-K)", policy: FASTDRIVE_POLICY_RECONPRUNER),
            Case(name: "RECONPRUNER (aux scores: top-K)", policy: FASTDRIVE_POLICY_RECONPRUNER, usesAux: true),
            Case(name: "DIVPRUNE", policy: FASTDRIVE_POLICY_DIVPRUNE),
            Case(name: "ATTENTION", policy: FASTDRIVE_POLICY_ATTENTION, usesAux: true),
            Case(name: "VISPRUNER (r = 0.5)", policy: FASTDRIVE_POLICY_VISPRUNER, usesAux: true),
            Case(name: "NORM", policy: FASTDRIVE_POLICY_NORM),
            Case(name: "UNIFORM", policy: FASTDRIVE_POLICY_UNIFORM),
            Case(name: "RANDOM", policy: FASTDRIVE_POLICY_RANDOM),
            Case(name: "DART (4 image pivots)", policy: FASTDRIVE_POLICY_DART),
            Case(name: "DART (4 image + 4 text pivots)", policy: FASTDRIVE_POLICY_DART, pivotRows: true),
            Case(name: "CDPRUNER (θ = 1)", policy: FASTDRIVE_POLICY_CDPRUNER, usesAux: true),
        ]
        // CDPRUNER needs max_tokens <= 4096 (fastdrive_pruner.h); the handle here has max_tokens = --tokens.
        let cdPrunerFits = tokens <= 4096
        let cases = all.filter { cdPrunerFits || $0.policy != FASTDRIVE_POLICY_CDPRUNER }
        if !cdPrunerFits && !json { print("(CDPRUNER skipped: it needs max_tokens <= 4096)") }
        if !json {
            print("\(tokens) tokens, D = \(d), K = \(keep), threads = \(info.num_threads), \(runs) interleaved runs (median / min ms)")
        }
        var samples = [[Double]](repeating: [], count: cases.count)
        try values.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(tokens), dim: Int64(d),
                                        row_stride: 0, grid_h: Int32(grid.0), grid_w: Int32(grid.1))
            try pivotValues.withUnsafeBytes { pivotRaw in
                var pivots = fastdrive_tokens(data: pivotRaw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: 16, dim: Int64(d),
                                              row_stride: 0, grid_h: 0, grid_w: 0)
                try aux.withUnsafeBufferPointer { auxBuffer in
                    for i in 0...runs {                 // run 0 warms up; every run takes every case once
                        for (c, entry) in cases.enumerated() {
                            var q = fastdrive_select_params()
                            q.struct_size = UInt32(MemoryLayout<fastdrive_select_params>.size)
                            q.k = Int64(keep)
                            q.seed = 1
                            if let policy = entry.policy { q.policy = policy }
                            if entry.usesAux {
                                q.aux = auxBuffer.baseAddress
                                q.aux_count = Int64(tokens)
                            }
                            let t0 = nowSeconds()
                            if entry.policy == nil {
                                try handle.check(fastdrive_pruner_score(handle.raw, &view, &scores))
                            } else if entry.pivotRows {
                                try withUnsafePointer(to: &pivots) { rows in
                                    q.pivot_rows = rows
                                    try handle.check(fastdrive_select(handle.raw, &view, &q, &out))
                                }
                            } else {
                                try handle.check(fastdrive_select(handle.raw, &view, &q, &out))
                            }
                            if i > 0 { samples[c].append(nowSeconds() - t0) }
                        }
                    }
                }
            }
        }
        for (c, entry) in cases.enumerated() {
            let sorted = samples[c].sorted()
            let median = sorted[sorted.count / 2] * 1e3, best = sorted[0] * 1e3
            if json {
                print("{\"case\":\"\(entry.name)\",\"n_tokens\":\(tokens),\"dim\":\(d),\"k\":\(keep),\"dtype\":\"f32\",\"threads\":\(info.num_threads),\"ms_median\":\(median),\"ms_min\":\(best)}")
            } else {
                print("  \(entry.name.padding(36)) \(String(format2: median).padding(10)) \(String(format2: best))")
            }
        }
    }
}
