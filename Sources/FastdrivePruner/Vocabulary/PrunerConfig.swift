// PrunerConfig.swift — the model config read from a weight file's __metadata__ (SPEC §2).

/// Positions inside the pruner layer; raw values match `fastdrive_rope`.
public enum RoPEMode: Int32, Sendable {
    case none = 0, oneD = 1, mrope = 2
    init?(name: String) {
        switch name {
        case "none": self = .none
        case "1d": self = .oneD
        case "mrope": self = .mrope
        default: return nil
        }
    }
    public var name: String {
        switch self {
        case .none: "none"
        case .oneD: "1d"
        case .mrope: "mrope"
        }
    }
}

/// Attention mask of the pruner layer; raw values match `fastdrive_attention`.
public enum AttentionMode: Int32, Sendable {
    case bidirectional = 0, causal = 1
    public var name: String { self == .causal ? "causal" : "bidirectional" }
}

/// A validated ReconPruner config. Missing optional keys take the Qwen2.5-VL-3B values.
public struct PrunerConfig: Equatable, Sendable {
    public static let formatName = "fastdrive-reconpruner"
    public static let formatVersion = "1"
    /// RoPE gathers one head's angles on the stack; 1024 is far above any Qwen head.
    public static let maxHeadDim = 1024

    public var hiddenSize = 2048
    public var intermediateSize = 11008
    public var heads = 16
    public var kvHeads = 2
    public var headDim = 128
    public var rmsNormEps = 1e-6
    public var ropeTheta = 1_000_000.0
    public var rope = RoPEMode.mrope
    public var mropeSection = [16, 24, 24]
    public var attention = AttentionMode.bidirectional

    /// The full-size Qwen2.5-VL-3B layer.
    public static let full = PrunerConfig()

    public init() {}

    /// Reads and validates `__metadata__` (project checks 1 and 2, then consistency).
    public init(metadata: [(key: String, value: String)]) throws(PrunerError) {
        func value(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
        guard let format = value("format") else { throw .format("missing metadata key 'format'") }
        guard format == Self.formatName else {
            throw .format("metadata 'format' is '\(format)', expected '\(Self.formatName)'")
        }
        guard let version = value("format_version") else { throw .format("missing metadata key 'format_version'") }
        guard version == Self.formatVersion else {
            throw .format("unsupported format_version '\(version)' (this runtime reads '\(Self.formatVersion)')")
        }
        func int(_ key: String, _ fallback: Int) throws(PrunerError) -> Int {
            guard let text = value(key) else { return fallback }
            guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let v = Int(text), v > 0 else {
                throw .format("metadata '\(key)' = '\(text)' is not a positive decimal integer")
            }
            return v
        }
        func real(_ key: String, _ fallback: Double) throws(PrunerError) -> Double {
            guard let text = value(key) else { return fallback }
            let allowed = "0123456789.eE+-".utf8
            guard !text.isEmpty, text.utf8.allSatisfy({ allowed.contains($0) }),
                  let v = Double(text), v.isFinite, v > 0 else {
                throw .format("metadata '\(key)' = '\(text)' is not a positive decimal number")
            }
            return v
        }
        hiddenSize = try int("hidden_size", hiddenSize)
        intermediateSize = try int("intermediate_size", intermediateSize)
        heads = try int("num_attention_heads", heads)
        kvHeads = try int("num_key_value_heads", kvHeads)
        headDim = try int("head_dim", headDim)
        rmsNormEps = try real("rms_norm_eps", rmsNormEps)
        ropeTheta = try real("rope_theta", ropeTheta)
        if let text = value("rope") {
            guard let mode = RoPEMode(name: text) else {
                throw .format("metadata 'rope' = '\(text)' is not one of none, 1d, mrope")
            }
            rope = mode
        }
        if let text = value("attention") {
            switch text {
            case "bidirectional": attention = .bidirectional
            case "causal": attention = .causal
            default: throw .format("metadata 'attention' = '\(text)' is not bidirectional or causal")
            }
        }
        if let text = value("mrope_section") {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = parts.compactMap { part -> Int? in
                let t = part.trimmingSpaces
                guard !t.isEmpty, t.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
                return Int(t)
            }
            guard parts.count == 3, numbers.count == 3 else {
                throw .format("metadata 'mrope_section' = '\(text)' is not three comma-separated integers")
            }
            mropeSection = numbers
        }
        try validate()
    }

    /// Consistency of the numbers with each other and with transformers' Qwen2.5-VL layer.
    public func validate() throws(PrunerError) {
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

    /// Elements of each SPEC tensor, by name, for this config (shapes as in PyTorch: [out, in]).
    public var tensorShapes: [(name: String, shape: [Int])] {
        let q = heads * headDim, kv = kvHeads * headDim
        return [
            ("query", [1, hiddenSize]),
            ("input_layernorm.weight", [hiddenSize]),
            ("self_attn.q_proj.weight", [q, hiddenSize]), ("self_attn.q_proj.bias", [q]),
            ("self_attn.k_proj.weight", [kv, hiddenSize]), ("self_attn.k_proj.bias", [kv]),
            ("self_attn.v_proj.weight", [kv, hiddenSize]), ("self_attn.v_proj.bias", [kv]),
            ("self_attn.o_proj.weight", [hiddenSize, q]),
            ("post_attention_layernorm.weight", [hiddenSize]),
            ("mlp.gate_proj.weight", [intermediateSize, hiddenSize]),
            ("mlp.up_proj.weight", [intermediateSize, hiddenSize]),
            ("mlp.down_proj.weight", [hiddenSize, intermediateSize]),
            ("scorer.weight", [1, hiddenSize]), ("scorer.bias", [1]),
        ]
    }

    /// Weight elements over all tensors.
    public var parameterCount: Int { tensorShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// The `__metadata__` a weight file with this config carries.
    public var metadata: [(key: String, value: String)] {
        [("format", Self.formatName), ("format_version", Self.formatVersion),
         ("hidden_size", "\(hiddenSize)"), ("intermediate_size", "\(intermediateSize)"),
         ("num_attention_heads", "\(heads)"), ("num_key_value_heads", "\(kvHeads)"),
         ("head_dim", "\(headDim)"), ("rms_norm_eps", "\(rmsNormEps)"), ("rope_theta", "\(ropeTheta)"),
         ("rope", rope.name), ("mrope_section", mropeSection.map(String.init).joined(separator: ",")),
         ("attention", attention.name)]
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
