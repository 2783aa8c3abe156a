// BenchPolicies.swift — `bench-policies`: the cost of every fastdrive_select policy beside score().

import ArgumentParser
import CFastdrivePruner
import FastdrivePruner

struct BenchPolicies: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-policies",
        abstract: "Time fastdrive_select for every policy (and score() alone) on one random frame, through the C ABI.")

    @Argument(help: "ReconPruner weight file (.safetensors); see `init --config full`.")
    var weights: String
    @Option(help: "Tokens per frame (a square count gets a square grid).")
    var tokens: Int = 3249
    @Option(help: "Tokens to keep (0 = half, the paper's 50 % pruning).")
    var k: Int = 0
    @Option(help: "Worker threads of the handle (0 = the CPUs this process may use): score and the DivPrune/VisPruner passes use them.")
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
        let grid = try syntheticGrid(tokens)
        var scores = [Float](repeating: 0, count: tokens)
        var out = [Int64](repeating: 0, count: keep)
        let cases: [(String, fastdrive_policy?, Bool)] = [
            ("score (ReconPruner forward only)", nil, false),
            ("RECONPRUNER (score + top-K)", FASTDRIVE_POLICY_RECONPRUNER, false),
            ("RECONPRUNER (aux scores: top-K)", FASTDRIVE_POLICY_RECONPRUNER, true),
            ("DIVPRUNE", FASTDRIVE_POLICY_DIVPRUNE, false),
            ("ATTENTION", FASTDRIVE_POLICY_ATTENTION, true),
            ("VISPRUNER (r = 0.5)", FASTDRIVE_POLICY_VISPRUNER, true),
            ("NORM", FASTDRIVE_POLICY_NORM, false),
            ("UNIFORM", FASTDRIVE_POLICY_UNIFORM, false),
            ("RANDOM", FASTDRIVE_POLICY_RANDOM, false),
        ]
        if !json {
            print("\(tokens) tokens, D = \(d), K = \(keep), threads = \(info.num_threads), \(runs) runs (median / min ms)")
        }
        try values.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(tokens), dim: Int64(d),
                                        row_stride: 0, grid_h: Int32(grid.0), grid_w: Int32(grid.1))
            try aux.withUnsafeBufferPointer { auxBuffer in
                for (name, policy, usesAux) in cases {
                    var q = fastdrive_select_params()
                    q.struct_size = UInt32(MemoryLayout<fastdrive_select_params>.size)
                    q.k = Int64(keep)
                    q.seed = 1
                    if let policy { q.policy = policy }
                    if usesAux {
                        q.aux = auxBuffer.baseAddress
                        q.aux_count = Int64(tokens)
                    }
                    var samples: [Double] = []
                    for i in 0...runs {
                        let t0 = nowSeconds()
                        if policy == nil {
                            try handle.check(fastdrive_pruner_score(handle.raw, &view, &scores))
                        } else {
                            try handle.check(fastdrive_select(handle.raw, &view, &q, &out))
                        }
                        if i > 0 { samples.append(nowSeconds() - t0) }
                    }
                    samples.sort()
                    let median = samples[samples.count / 2] * 1e3, best = samples[0] * 1e3
                    if json {
                        print("{\"case\":\"\(name)\",\"n_tokens\":\(tokens),\"dim\":\(d),\"k\":\(keep),\"dtype\":\"f32\",\"threads\":\(info.num_threads),\"ms_median\":\(median),\"ms_min\":\(best)}")
                    } else {
                        print("  \(name.padding(36)) \(String(format2: median).padding(10)) \(String(format2: best))")
                    }
                }
            }
        }
    }
}
