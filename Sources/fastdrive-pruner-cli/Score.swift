// Score.swift — `score`: a [n_tokens, dim] .npy token array in, float32 scores .npy out.

import ArgumentParser
import FastdrivePruner

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score a [n_tokens, dim] .npy token array; writes float32 scores .npy.")

    @OptionGroup var load: LoadOptions
    @OptionGroup var input: TokenOptions
    @Option(help: "Output scores (.npy).")
    var out: String

    func run() throws {
        let t = try Tokens(path: try RawArguments.path(input.tokens))
        let outPath = try RawArguments.path(out)
        let handle = try Handle(path: try RawArguments.path(load.weights), maxTokens: t.capacity(load.maxTokens),
                                threads: load.threads, compute: load.compute)
        let scores = try handle.score(t, grid: input.grid)
        try write(vector(scores, descr: "<f4"), to: outPath)
        print("wrote \(outPath): \(scores.count) scores")
    }
}
