// FastdrivePrunerCommand.swift — the `fastdrive-pruner` tool: inspect, init, score, prune, bench.

import ArgumentParser
import CFastdrivePruner
import FastdrivePruner
#if canImport(Glibc)
import Glibc
#endif

@main
struct FastdrivePrunerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastdrive-pruner",
        abstract: "ReconPruner visual-token pruning on the CPU.",
        version: String(cString: fastdrive_pruner_version()),
        subcommands: [Inspect.self, Init.self, Score.self, Prune.self, Bench.self, BenchPolicies.self])
}

/// Options shared by the commands that load a pruner.
struct LoadOptions: ParsableArguments {
    @Argument(help: "ReconPruner weight file (.safetensors).")
    var weights: String

    @Option(help: "Worker threads (0 = all cores).")
    var threads: UInt32 = 0

    @Option(help: "Token capacity of the handle (0 = the number of tokens given).")
    var maxTokens: UInt32 = 0

    @Option(help: "Compute precision: f32, or bf16 (GEMMs in bf16 with f32 accumulation; needs AVX512_BF16).")
    var compute: Compute = .f32
}

/// The compute precision option, as fastdrive_dtype.
enum Compute: String, ExpressibleByArgument {
    case f32, bf16
    var dtype: fastdrive_dtype { self == .bf16 ? FASTDRIVE_BF16 : FASTDRIVE_F32 }
}

/// A loaded pruner through the C ABI, destroyed on deinit.
final class Handle {
    let raw: OpaquePointer

    init(path: String, maxTokens: Int, threads: UInt32, compute: Compute = .f32) throws {
        var options = fastdrive_pruner_default_options()
        options.max_tokens = UInt32(maxTokens)
        options.num_threads = threads
        options.compute = compute.dtype
        var p: OpaquePointer?
        let status = fastdrive_pruner_create(path, &options, &p)
        guard status == FASTDRIVE_OK, let p else { throw CLIError(String(cString: fastdrive_pruner_last_error(nil))) }
        raw = p
    }

    deinit { fastdrive_pruner_destroy(raw) }

    func check(_ status: fastdrive_status) throws {
        guard status == FASTDRIVE_OK else { throw CLIError(String(cString: fastdrive_pruner_last_error(raw))) }
    }

    var info: fastdrive_pruner_info {
        var i = fastdrive_pruner_info()
        i.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
        _ = fastdrive_pruner_describe(raw, &i)
        return i
    }

    /// Scores a row-major token array; the grid is the one given, or square when n is a square.
    func score(_ tokens: NPYArray, grid: (Int, Int)?) throws -> [Float] {
        guard tokens.shape.count == 2 else { throw CLIError("tokens must be a 2-D array [n_tokens, dim], got shape \(tokens.shape)") }
        let n = tokens.shape[0], d = tokens.shape[1]
        let g = grid ?? Self.squareGrid(n)
        var scores = [Float](repeating: 0, count: n)
        try tokens.bytes.withUnsafeBytes { bytes in
            var view = fastdrive_tokens(data: bytes.baseAddress, dtype: fastdrive_dtype(rawValue: UInt32(tokens.dtype.rawValue)),
                                        n_tokens: Int64(n), dim: Int64(d), row_stride: 0,
                                        grid_h: Int32(g?.0 ?? 0), grid_w: Int32(g?.1 ?? 0))
            try check(fastdrive_pruner_score(raw, &view, &scores))
        }
        return scores
    }

    static func squareGrid(_ n: Int) -> (Int, Int)? {
        let s = Int(Double(n).squareRoot().rounded())
        return s * s == n ? (s, s) : nil
    }
}

func parseGrid(_ text: String?) throws -> (Int, Int)? {
    guard let text else { return nil }
    let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw CLIError("--grid takes HxW, e.g. 57x57") }
    return (parts[0], parts[1])
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a weight file's config, tensors and parameter count.")

    @Argument(help: "ReconPruner weight file (.safetensors).")
    var weights: String

    func run() throws {
        let header: SafetensorsHeader
        let config: PrunerConfig
        do {
            header = try SafetensorsHeader.read(path: weights)
            config = try PrunerConfig(metadata: header.metadata)
        } catch {
            throw CLIError("\(weights): \(error.message)")
        }
        print("file:       \(weights)")
        for (key, value) in header.metadata { print("  \(key) = \(value)") }
        print("parameters: \(config.parameterCount) (\(String(format2: Double(config.parameterCount) / 1e6)) M)")
        var byType: [String: Int] = [:]
        for t in header.tensors { byType[t.dtypeName, default: 0] += t.elementCount }
        print("dtypes:     " + byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for t in header.tensors {
            print("  \(t.name.padding(32)) \(t.dtypeName.padding(5)) \(t.shape)")
        }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a randomly initialised pruner (nn.Linear-style init).")

    enum Size: String, ExpressibleByArgument { case small, full }

    @Option(help: "small (D=128, for tests and demos) or full (Qwen2.5-VL-3B layer, D=2048, ~308 MB in f32).")
    var config: Size = .small
    @Option(help: "Output file.")
    var out: String
    @Option(help: "none, 1d or mrope.")
    var rope: String = "mrope"
    @Option(help: "bidirectional or causal.")
    var attention: String = "bidirectional"
    @Option(help: "Stored dtype: f32, f16 or bf16.")
    var dtype: String = "f32"
    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func run() throws {
        var c = config == .full ? PrunerConfig.full : PrunerConfig.small
        var metadata = c.metadata
        metadata = metadata.map { ($0.key, $0.key == "rope" ? rope : $0.key == "attention" ? attention : $0.value) }
        do { c = try PrunerConfig(metadata: metadata) } catch { throw CLIError(error.message) }
        let type: ElementType = switch dtype.lowercased() {
        case "f32": .f32
        case "f16": .f16
        case "bf16": .bf16
        default: throw CLIError("--dtype must be f32, f16 or bf16")
        }
        let bytes: Int
        do {
            bytes = try SafetensorsWriter.write(path: out, tensors: RandomPruner.tensors(config: c, seed: seed),
                                                metadata: c.metadata, dtype: type)
        } catch { throw CLIError(error.message) }
        print("wrote \(out): \(c.parameterCount) parameters, \(bytes) bytes, rope=\(c.rope.name), attention=\(c.attention.name)")
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score a [n_tokens, dim] .npy token array; writes float32 scores .npy.")

    @OptionGroup var load: LoadOptions
    @Argument(help: "Tokens (.npy, float32 or float16, C order).")
    var tokens: String
    @Option(help: "Token grid HxW (required for rope=mrope unless n is a square).")
    var grid: String?
    @Option(help: "Output scores (.npy).")
    var out: String

    func run() throws {
        let t = try NPYArray.read(tokens)
        let handle = try Handle(path: load.weights, maxTokens: Int(load.maxTokens == 0 ? UInt32(t.shape.first ?? 1) : load.maxTokens), threads: load.threads, compute: load.compute)
        let scores = try handle.score(t, grid: try parseGrid(grid))
        try scores.withUnsafeBytes { try NPYArray.write(out, shape: [scores.count], descr: "<f4", payload: $0) }
        print("wrote \(out): \(scores.count) scores")
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep the top-K tokens; writes the kept indices (int64 .npy), and the kept rows.")

    @OptionGroup var load: LoadOptions
    @Argument(help: "Tokens (.npy, float32 or float16, C order).")
    var tokens: String
    @Option(help: "Token grid HxW (required for rope=mrope unless n is a square).")
    var grid: String?
    @Option(name: .shortAndLong, help: "Tokens to keep.")
    var k: Int?
    @Option(help: "Share of tokens to keep, in (0, 1] (K = floor(ratio·n), at least 1).")
    var keepRatio: Double?
    @Option(help: "Output indices (.npy, int64, ascending).")
    var out: String
    @Option(help: "Also write the kept token rows (.npy, same dtype as the input).")
    var kept: String?

    func run() throws {
        let t = try NPYArray.read(tokens)
        let n = t.shape.first ?? 0
        let handle = try Handle(path: load.weights, maxTokens: Int(load.maxTokens == 0 ? UInt32(max(n, 1)) : load.maxTokens), threads: load.threads, compute: load.compute)
        let start = nowSeconds()
        let scores = try handle.score(t, grid: try parseGrid(grid))
        var count: Int64 = 0
        switch (k, keepRatio) {
        case (let k?, nil): count = Int64(k)
        case (nil, let r?): try handle.check(fastdrive_keep_count(Int64(n), r, &count))
        default: throw CLIError("give exactly one of -k and --keep-ratio")
        }
        var indices = [Int64](repeating: 0, count: max(Int(count), 0))
        try handle.check(fastdrive_pruner_topk(handle.raw, scores, Int64(n), count, &indices))
        let elapsed = nowSeconds() - start
        try indices.withUnsafeBytes { try NPYArray.write(out, shape: [indices.count], descr: "<i8", payload: $0) }
        if let kept {
            let rowBytes = t.shape[1] * t.dtype.byteSize
            var rows: [UInt8] = []
            rows.reserveCapacity(indices.count * rowBytes)
            for i in indices { rows += t.bytes[Int(i) * rowBytes..<(Int(i) + 1) * rowBytes] }
            try rows.withUnsafeBytes {
                try NPYArray.write(kept, shape: [indices.count, t.shape[1]], descr: t.dtype == .f32 ? "<f4" : "<f2", payload: $0)
            }
        }
        print("kept \(indices.count) of \(n) tokens in \(String(format2: elapsed * 1000)) ms; wrote \(out)")
    }
}

extension String {
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = "\(scaled)"
    }

    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
