// TestModel.swift — small deterministic pruner files for loader and ABI tests.

@testable import FastdrivePruner

enum TestModel {
    /// D = 32, I = 64, 4 heads of 8, 2 KV heads, mrope sections 1,1,2.
    static var config: PrunerConfig {
        var c = PrunerConfig()
        c.hiddenSize = 32
        c.intermediateSize = 64
        c.heads = 4
        c.kvHeads = 2
        c.headDim = 8
        c.mropeSection = [1, 1, 2]
        return c
    }

    /// Deterministic values in about [-0.5, 0.5) from a 64-bit LCG.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var x = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Float(x >> 40) / Float(1 << 24) - 0.5
        }
    }

    static func tensors(_ c: PrunerConfig = config, seed: UInt64 = 1) -> [NamedTensor] {
        c.tensorShapes.enumerated().map { i, t in
            var v = values(t.shape.reduce(1, *), seed: seed &+ UInt64(i))
            if t.name.hasSuffix("layernorm.weight") { v = v.map { 1 + $0 } }
            return NamedTensor(name: t.name, shape: t.shape, values: v)
        }
    }

    /// Writes a pruner file; `metadata` and `tensors` may be edited to make it invalid.
    static func file(_ c: PrunerConfig = config, dtype: ElementType = .f32,
                     metadata: [(key: String, value: String)]? = nil, tensors: [NamedTensor]? = nil) -> String {
        let path = TestFiles.write([], name: "model.safetensors")
        _ = try! SafetensorsWriter.write(path: path, tensors: tensors ?? Self.tensors(c), metadata: metadata ?? c.metadata, dtype: dtype)
        return path
    }

    /// Random tokens [n × D].
    static func tokens(_ n: Int, dim: Int = config.hiddenSize, seed: UInt64 = 99) -> [Float] {
        values(n * dim, seed: seed).map { $0 * 4 }
    }
}
