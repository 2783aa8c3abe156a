// RandomPruner.swift — randomly initialised pruner weights, PyTorch-style, for `init`.

import FastdrivePruner

/// xoshiro256** seeded by the library's SplitMix64: fast, reproducible across platforms.
struct Xoshiro256: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var g = SplitMix64(state: seed)
        s = (g.next(), g.next(), g.next(), g.next())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [-bound, bound).
    mutating func uniform(_ bound: Float) -> Float {
        Float(next() >> 40) / Float(1 << 24) * 2 * bound - bound
    }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Float {
        let u1 = max(Float(next() >> 40) / Float(1 << 24), 1e-7)
        let u2 = Float(next() >> 40) / Float(1 << 24)
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    /// `count` standard normals: a synthetic frame of tokens for the benchmarks.
    mutating func normals(_ count: Int) -> [Float] {
        (0..<count).map { _ in normal() }
    }
}

enum RandomPruner {
    /// Every tensor of the weight file (TensorName) for `config`: nn.Linear's default init (U(±1/√fan_in) for weights and
    /// biases), RMSNorm weights 1, query token N(0, 1).
    static func tensors(config: PrunerConfig, seed: UInt64) -> [NamedTensor] {
        var rng = Xoshiro256(seed: seed)
        return config.tensorShapes.map { name, shape in
            let count = shape.reduce(1, *)
            let values: [Float]
            if name.hasSuffix("layernorm.weight") {
                values = [Float](repeating: 1, count: count)
            } else if name == "query" {
                values = rng.normals(count)
            } else {
                let fanIn = name.hasSuffix(".bias") ? config.tensorShapes.first { $0.name == name.replacingSuffix(".bias", with: ".weight") }!.shape.last! : shape.last!
                let bound = 1 / Float(fanIn).squareRoot()
                values = (0..<count).map { _ in rng.uniform(bound) }
            }
            return NamedTensor(name: name, shape: shape, values: values)
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}

#if canImport(Glibc)
import Glibc
#endif
