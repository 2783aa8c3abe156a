// AttentionMode.swift — the attention mask of the pruner layer (weight-file key `attention`).

/// Attention mask of the pruner layer; raw values match `fastdrive_attention`.
package enum AttentionMode: Int32, Sendable {
    case bidirectional = 0, causal = 1

    init?(name: String) {
        switch name {
        case "bidirectional": self = .bidirectional
        case "causal": self = .causal
        default: return nil
        }
    }

    package var name: String { self == .causal ? "causal" : "bidirectional" }
}
