// Prune.swift — `prune`: score, keep the top-K; writes the kept indices and optionally the rows.

import ArgumentParser
import CFastdrivePruner
import FastdrivePruner

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep the top-K tokens; writes the kept indices (int64 .npy), and the kept rows.")

    @OptionGroup var load: LoadOptions
    @OptionGroup var input: TokenOptions
    @Option(name: .shortAndLong, help: "Tokens to keep, 1 ... n_tokens.")
    var k: Int?
    @Option(help: "Share of tokens to keep, in (0, 1] (K = floor(ratio·n), at least 1).")
    var keepRatio: Double?
    @Option(help: "Output indices (.npy, int64, ascending).")
    var out: String
    @Option(help: "Also write the kept token rows (.npy, same dtype as the input).")
    var kept: String?

    func validate() throws {
        switch (k, keepRatio) {
        case (let k?, nil):
            guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        case (nil, let r?):
            guard r.isFinite, r > 0, r <= 1 else { throw ValidationError("--keep-ratio must be in (0, 1] (got \(r))") }
        default:
            throw ValidationError("give exactly one of -k and --keep-ratio")
        }
    }

    func run() throws {
        let tokensPath = try RawArguments.path(input.tokens)
        let t = try Tokens(path: tokensPath)
        let outPath = try RawArguments.path(out)
        let keptPath = try kept.map { try RawArguments.path($0) }
        // K against the tokens before anything is sized by it.
        let count: Int
        if let k {
            guard k <= t.n else { throw CLIError("-k \(k) is more than the \(t.n) tokens of '\(tokensPath)'") }
            count = k
        } else {
            var c: Int64 = 0
            guard fastdrive_keep_count(Int64(t.n), keepRatio!, &c) == FASTDRIVE_OK else {
                throw CLIError(String(cString: fastdrive_pruner_last_error(nil)))  // keep_count's slot is the thread's
            }
            count = Int(c)
        }
        let handle = try Handle(path: try RawArguments.path(load.weights), maxTokens: t.capacity(load.maxTokens),
                                threads: load.threads, compute: load.compute)
        let start = nowSeconds()
        let scores = try handle.score(t, grid: input.grid)
        var indices = [Int64](repeating: 0, count: count)
        try handle.check(fastdrive_pruner_topk(handle.raw, scores, Int64(t.n), Int64(count), &indices))
        let elapsed = nowSeconds() - start
        try write(vector(indices, descr: "<i8"), to: outPath)
        if let keptPath {
            // The input's own dtype string: bfloat16 rows stay '<V2', never relabelled float16.
            try write(try t.rows(indices), to: keptPath)
        }
        print("kept \(indices.count) of \(t.n) tokens in \(String(format2: elapsed * 1000)) ms; wrote \(outPath)")
    }
}
