// Inspect.swift — `inspect`: a weight file's config, tensors and parameter count.

import ArgumentParser
import FastdrivePruner

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a weight file's config, tensors and parameter count.")

    @Argument(help: "ReconPruner weight file (.safetensors).")
    var weights: String

    func run() throws {
        let path = try RawArguments.path(weights)
        let header: SafetensorsHeader
        let config: PrunerConfig
        do {
            header = try SafetensorsHeader.read(path: path)
            config = try PrunerConfig(metadata: header.metadata)
        } catch {
            throw CLIError("\(path): \(error.message)")
        }
        print("file:       \(path)")
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
