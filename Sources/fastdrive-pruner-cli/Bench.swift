// Bench.swift — `bench`: latency of score() per frame through the C ABI, and its GEMM share.

import ArgumentParser
import CFastdrivePruner
import FastdrivePruner
#if canImport(Glibc)
import Glibc
#endif

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time score() on random tokens; print median/p10/p90 ms, GFLOP/s and the time outside GEMM.")

    @Argument(help: "ReconPruner weight file (.safetensors); see `init --config full`.")
    var weights: String
    @Option(help: "Tokens per frame.")
    var tokens: Int = 3249
    @Option(help: "Worker threads (0 = the CPUs this process may use).")
    var threads: UInt32 = 0
    @Option(help: "Compute precision: f32, bf16 or int8.")
    var compute: Compute = .f32
    @Option(help: "Timed runs (after one warm-up).")
    var runs: Int = 5
    @Option(help: "Also time one score_batch call over this many frames against as many single calls.")
    var frames: Int = 1
    @Flag(help: "Print one JSON line instead of text.")
    var json = false

    /// Frames one score_batch call takes (fastdrive_pruner_score_batch).
    static let maxFrames = 64

    /// The handle's capacity: every frame's tokens plus one query row per extra frame.
    var capacity: Int? {
        let (t, o1) = tokens.multipliedReportingOverflow(by: frames)
        let (c, o2) = t.addingReportingOverflow(frames - 1)
        return o1 || o2 || c > Int(UInt32.max) ? nil : c
    }

    func validate() throws {
        guard tokens >= 1 else { throw ValidationError("--tokens must be at least 1 (got \(tokens))") }
        guard (1...Self.maxFrames).contains(frames) else { throw ValidationError("--frames must be in 1...\(Self.maxFrames) (got \(frames))") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (got \(runs))") }
        guard capacity != nil else {
            throw ValidationError("--tokens \(tokens) × --frames \(frames) is more than a handle can hold (max_tokens <= \(UInt32.max))")
        }
    }

    func run() throws {
        let path = try RawArguments.path(weights)
        let createStart = nowSeconds()
        let handle = try Handle(path: path, maxTokens: UInt32(capacity!), threads: threads, compute: compute)
        let createMs = (nowSeconds() - createStart) * 1e3
        let info = handle.info
        let d = Int(info.hidden_size)
        var rng = Xoshiro256(seed: 1)
        let values = rng.normals(tokens * d)
        let grid = try syntheticGrid(tokens)
        var scores = [Float](repeating: 0, count: tokens)
        var samples: [Double] = []
        try values.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(tokens), dim: Int64(d),
                                        row_stride: 0, grid_h: Int32(grid.0), grid_w: Int32(grid.1))
            for i in 0...runs {
                let t0 = nowSeconds()
                try handle.check(fastdrive_pruner_score(handle.raw, &view, &scores))
                if i > 0 { samples.append(nowSeconds() - t0) }
            }
        }
        let batch = frames > 1 ? try timeBatch(handle, values: values, d: d, grid: grid) : nil
        let peakRSS = Self.peakRSSBytes()
        samples.sort()
        let median = samples[samples.count / 2]
        let gemm = try gemmOnlySeconds(path: path)
        let flops = Self.flops(info: info, tokens: tokens)
        let executed = flops - Self.foldedFlops(info: info, tokens: tokens)
        let outside = gemm.map { max(0, 1 - $0 / median) }
        let weightBytes = Int(info.parameter_count) * 4, arenaBytes = Int(info.arena_bytes)
        if json {
            var line = "{\"case\":\"score\",\"n_tokens\":\(tokens),\"dim\":\(d),\"dtype\":\"\(compute.rawValue)\",\"threads\":\(info.num_threads),\"ms_median\":\(median * 1e3),\"ms_p10\":\(samples[samples.count / 10] * 1e3),\"ms_p90\":\(samples[samples.count * 9 / 10] * 1e3),\"gflops\":\(flops / median / 1e9),\"executed_gflops\":\(executed / median / 1e9),\(gemm.map { "\"gemm_ms\":\($0 * 1e3),\"outside_gemm\":\(outside!)," } ?? "")\"create_ms\":\(createMs),\"peak_rss_bytes\":\(peakRSS),\"weight_bytes\":\(weightBytes),\"arena_bytes\":\(arenaBytes)"
            if let batch { line += ",\"frames\":\(frames),\"batch_fps\":\(batch.batchFPS),\"single_fps\":\(batch.singleFPS)" }
            print(line + "}")
        } else {
            print("score: \(tokens) tokens, D=\(d), \(compute.rawValue), \(info.num_threads) threads, \(samples.count) runs")
            print("  median \(String(format2: median * 1e3)) ms  p10 \(String(format2: samples[samples.count / 10] * 1e3)) ms  p90 \(String(format2: samples[samples.count * 9 / 10] * 1e3)) ms")
            print("  \(String(format2: flops / 1e9)) GFLOP per frame, \(String(format2: flops / median / 1e9)) GFLOP/s effective")
            print("  \(String(format2: executed / 1e9)) GFLOP executed (scorer folded through down_proj), \(String(format2: executed / median / 1e9)) GFLOP/s")
            if let gemm, let outside {
                print("  GEMMs alone: \(String(format2: gemm * 1e3)) ms; time outside GEMM: \(String(format2: outside * 100)) %")
            } else {
                print("  GEMMs alone: not measured (build with `--traits BenchHooks` to time them)")
            }
            print("  create \(String(format2: createMs)) ms; peak RSS \(peakRSS >> 20) MiB = weights \(weightBytes >> 20) MiB + arena \(arenaBytes >> 20) MiB planned for \(capacity!) tokens")
            if let batch {
                print("  \(frames) frames: score_batch \(String(format2: batch.batchFPS)) frames/s, \(frames) single calls \(String(format2: batch.singleFPS)) frames/s")
            }
        }
    }

    /// Median seconds of the pass's GEMMs alone (same shapes and split, nothing else: the floor of
    /// this design), from a second handle; nil in a build without the BenchHooks trait.
    func gemmOnlySeconds(path: RawPath) throws -> Double? {
#if FASTDRIVE_BENCH_HOOKS
        let swiftPruner: Pruner
        do {
            swiftPruner = try Pruner(path: path, options: PrunerOptions(maxTokens: tokens, threads: Int(threads),
                                                                         compute: Int32(bitPattern: compute.dtype.rawValue)))
        } catch { throw CLIError(error.message) }
        var gemmSamples: [Double] = []
        for i in 0...runs {
            let t0 = nowSeconds()
            do { try swiftPruner.runGEMMsOnly(tokens: tokens) } catch { throw CLIError(error.message) }
            if i > 0 { gemmSamples.append(nowSeconds() - t0) }
        }
        gemmSamples.sort()
        return gemmSamples[gemmSamples.count / 2]
#else
        return nil
#endif
    }

    /// Frames per second of one score_batch call over `frames` frames vs. as many single calls.
    func timeBatch(_ handle: Handle, values: [Float], d: Int, grid: (Int, Int)) throws -> (batchFPS: Double, singleFPS: Double) {
        var scores = [Float](repeating: 0, count: tokens * frames)
        var best = (batch: Double.infinity, single: Double.infinity)
        try values.withUnsafeBytes { raw in
            let view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(tokens), dim: Int64(d),
                                        row_stride: 0, grid_h: Int32(grid.0), grid_w: Int32(grid.1))
            let views = [fastdrive_tokens](repeating: view, count: frames)
            for _ in 0..<runs {
                var t0 = nowSeconds()
                try handle.check(fastdrive_pruner_score_batch(handle.raw, views, Int64(frames), &scores))
                best.batch = min(best.batch, nowSeconds() - t0)
                t0 = nowSeconds()
                for f in 0..<frames {
                    var v = views[f]
                    try scores.withUnsafeMutableBufferPointer { out in
                        try handle.check(fastdrive_pruner_score(handle.raw, &v, out.baseAddress! + f * tokens))
                    }
                }
                best.single = min(best.single, nowSeconds() - t0)
            }
        }
        return (Double(frames) / best.batch, Double(frames) / best.single)
    }

    /// ru_maxrss of this process, in bytes.
    static func peakRSSBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    /// FLOPs of the layer `flops` counts that the runtime does not execute: the visual rows'
    /// down projection, less the query row's GEMVs that fold the scorer through it.
    static func foldedFlops(info: fastdrive_pruner_info, tokens: Int) -> Double {
        let d = Double(info.hidden_size), i = Double(info.intermediate_size)
        return 2 * Double(tokens) * d * i - 2 * d * i
    }

    /// Multiply-adds ×2 of one frame, as the reference layer runs it: projections, attention
    /// (halved when causal), MLP. The benchmark's peers report GFLOP/s against the same count.
    static func flops(info: fastdrive_pruner_info, tokens: Int) -> Double {
        let r = Double(tokens + 1), d = Double(info.hidden_size), i = Double(info.intermediate_size)
        let q = Double(info.num_attention_heads * info.head_dim), kv = Double(info.num_key_value_heads * info.head_dim)
        let attention = 4 * r * r * q * (info.attention == FASTDRIVE_ATTENTION_CAUSAL ? 0.5 : 1)
        return 2 * r * d * (q + 2 * kv) + 2 * r * q * d + 6 * r * d * i + attention
    }
}
