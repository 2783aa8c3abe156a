// TensorName.swift — the tensors of a pruner weight file and their shapes: the one table of them.

/// Every tensor of a format_version 1 weight file, in the order of the table in
/// docs/weight-file.md (which is also the order the loader checks and converts them in).
/// Nothing else in the runtime lists the tensors: the loader, the writer's tools and the
/// parameter count all read this table.
enum TensorName: String, CaseIterable, Sendable {
    case query = "query"
    case inputNorm = "input_layernorm.weight"
    case qProj = "self_attn.q_proj.weight"
    case qBias = "self_attn.q_proj.bias"
    case kProj = "self_attn.k_proj.weight"
    case kBias = "self_attn.k_proj.bias"
    case vProj = "self_attn.v_proj.weight"
    case vBias = "self_attn.v_proj.bias"
    case oProj = "self_attn.o_proj.weight"
    case postNorm = "post_attention_layernorm.weight"
    case gateProj = "mlp.gate_proj.weight"
    case upProj = "mlp.up_proj.weight"
    case downProj = "mlp.down_proj.weight"
    case scorer = "scorer.weight"
    case scorerBias = "scorer.bias"

    /// The tensor's shape for `c`, as PyTorch stores it (linear weights [out, in]).
    func shape(_ c: PrunerConfig) -> [Int] {
        let d = c.hiddenSize, i = c.intermediateSize, q = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        switch self {
        case .query, .scorer: return [1, d]
        case .inputNorm, .postNorm: return [d]
        case .qProj: return [q, d]
        case .qBias: return [q]
        case .kProj, .vProj: return [kv, d]
        case .kBias, .vBias: return [kv]
        case .oProj: return [d, q]
        case .gateProj, .upProj: return [i, d]
        case .downProj: return [d, i]
        case .scorerBias: return [1]
        }
    }

    /// Whether the tensor is the [out, in] weight of a linear layer: the matrices a compute type
    /// other than f32 packs for its own kernel.
    var isLinearWeight: Bool {
        switch self {
        case .qProj, .kProj, .vProj, .oProj, .gateProj, .upProj, .downProj: true
        default: false
        }
    }
}
