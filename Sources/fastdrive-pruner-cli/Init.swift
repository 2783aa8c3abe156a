// Init.swift — `init`: a randomly initialised pruner weight file, nn.Linear-style.

import ArgumentParser
import FastdrivePruner

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

    func validate() throws {
        guard ["none", "1d", "mrope"].contains(rope) else { throw ValidationError("--rope must be none, 1d or mrope") }
        guard ["bidirectional", "causal"].contains(attention) else {
            throw ValidationError("--attention must be bidirectional or causal")
        }
        guard elementType != nil else { throw ValidationError("--dtype must be f32, f16 or bf16") }
    }

    var elementType: ElementType? {
        switch dtype.lowercased() {
        case "f32": .f32
        case "f16": .f16
        case "bf16": .bf16
        default: nil
        }
    }

    func run() throws {
        let path = try RawArguments.path(out)
        var c = config == .full ? PrunerConfig.full : PrunerConfig.small
        var metadata = c.metadata
        metadata = metadata.map { ($0.key, $0.key == "rope" ? rope : $0.key == "attention" ? attention : $0.value) }
        do { c = try PrunerConfig(metadata: metadata) } catch { throw CLIError(error.message) }
        let bytes: Int
        do {
            bytes = try SafetensorsWriter.write(path: path, tensors: RandomPruner.tensors(config: c, seed: seed),
                                                metadata: c.metadata, dtype: elementType!)
        } catch { throw CLIError(error.message) }
        print("wrote \(path): \(c.parameterCount) parameters, \(bytes) bytes, rope=\(c.rope.name), attention=\(c.attention.name)")
    }
}
