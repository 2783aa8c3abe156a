// PrunerConfig.swift — the dimensions and modes of one pruner layer, with their defaults and checks.

/// A validated ReconPruner config (names as in docs/model.md). The defaults are the full-size
/// Qwen2.5-VL-3B layer, which a weight file's missing optional keys take.
package struct PrunerConfig: Equatable, Sendable {
    package static let formatName = "fastdrive-reconpruner"
    package static let formatVersion = "1"
    /// RoPE gathers one head's angles on the stack; 1024 is far above any Qwen head.
    package static let maxHeadDim = 1024

    package var hiddenSize = 2048
    package var intermediateSize = 11008
    package var heads = 16
    package var kvHeads = 2
    package var headDim = 128
    package var rmsNormEps = 1e-6
    package var ropeTheta = 1_000_000.0
    package var rope = RoPEMode.mrope
    package var mropeSection = [16, 24, 24]
    package var attention = AttentionMode.bidirectional

    /// The full-size Qwen2.5-VL-3B layer.
    package static let full = PrunerConfig()

    /// A reduced layer (D = 128, I = 384, 4 heads of 32, 2 KV heads): the CLI's `init --config
    /// small`, the demo's trained model and tests that need more than a toy size.
    package static var small: PrunerConfig {
        var c = PrunerConfig()
        c.hiddenSize = 128
        c.intermediateSize = 384
        c.heads = 4
        c.kvHeads = 2
        c.headDim = 32
        c.mropeSection = [4, 6, 6]
        return c
    }

    package init() {}

    /// Rule config-consistent: the numbers agree with each other and with transformers' Qwen2.5-VL layer.
    package func validate() throws(PrunerError) {
        let limit = 1 << 20  // keeps every product of two dims far from overflow
        for (key, v) in [("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                         ("num_attention_heads", heads), ("num_key_value_heads", kvHeads), ("head_dim", headDim)]
        where v <= 0 || v > limit {
            throw .format("metadata '\(key)' = \(v) is outside 1...\(limit)")
        }
        guard heads % kvHeads == 0 else {
            throw .format("num_attention_heads (\(heads)) is not a multiple of num_key_value_heads (\(kvHeads))")
        }
        guard heads * headDim == hiddenSize else {
            throw .format("num_attention_heads × head_dim (\(heads) × \(headDim)) != hidden_size (\(hiddenSize)), as Qwen2.5-VL requires")
        }
        guard headDim % 2 == 0, headDim <= Self.maxHeadDim else {
            throw .format("head_dim (\(headDim)) must be even and at most \(Self.maxHeadDim) for rotary embeddings")
        }
        guard mropeSection.reduce(0, +) == headDim / 2 else {
            throw .format("mrope_section \(mropeSection.map(String.init).joined(separator: ",")) must sum to head_dim / 2 = \(headDim / 2)")
        }
    }

    /// Each tensor of the weight file with its shape for this config (TensorName's table).
    package var tensorShapes: [(name: String, shape: [Int])] {
        TensorName.allCases.map { ($0.rawValue, $0.shape(self)) }
    }

    /// Weight elements over all tensors.
    package var parameterCount: Int { TensorName.allCases.reduce(0) { $0 + $1.shape(self).reduce(1, *) } }
}
