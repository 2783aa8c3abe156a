// FastdrivePrunerCommand.swift — the `fastdrive-pruner` tool: its commands and what they share.
//
// Exit status: 0 on success, 1 when the input or the library refuses (the message says why),
// 64 (EX_USAGE) for a bad command line; never a crash. Every numeric option is range-checked
// before it sizes anything, and paths reach open() as the bytes given on the command line.

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

    @Option(help: "Worker threads (0 = the CPUs this process may use).")
    var threads: UInt32 = 0

    @Option(help: "Token capacity of the handle (0 = the number of tokens given).")
    var maxTokens: UInt32 = 0

    @Option(help: "Compute precision: f32; bf16 (GEMMs in bf16 with f32 accumulation; needs AVX512_BF16); or int8 (linear layers in int8 with int32 accumulation; needs AVX512-VNNI).")
    var compute: Compute = .f32
}

/// The token array and its grid, for the commands that score one.
struct TokenOptions: ParsableArguments {
    @Argument(help: "Tokens (.npy [n_tokens, dim]: float32, float16, or bfloat16 saved by ml_dtypes; C order).")
    var tokens: String

    @Option(help: "Token grid HxW: required under rope = mrope (positions depend on it), checked against n_tokens otherwise.")
    var grid: Grid?
}

/// The compute precision option, as fastdrive_dtype.
enum Compute: String, ExpressibleByArgument {
    case f32, bf16, int8
    var dtype: fastdrive_dtype {
        switch self {
        case .f32: FASTDRIVE_F32
        case .bf16: FASTDRIVE_BF16
        case .int8: FASTDRIVE_INT8
        }
    }
}

/// A token grid given as HxW: both sides in 1 ... Int32.max (fastdrive_tokens' int32 fields).
struct Grid: ExpressibleByArgument {
    let h: Int32
    let w: Int32

    init(h: Int32, w: Int32) {
        self.h = h
        self.w = w
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let h = Int32(parts[0]), let w = Int32(parts[1]), h > 0, w > 0 else { return nil }
        self.h = h
        self.w = w
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// A failure the tool reports with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

extension String {
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = "\(scaled)"
    }

    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
