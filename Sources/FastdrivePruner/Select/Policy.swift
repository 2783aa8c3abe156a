// Policy.swift — the selection policies of fastdrive_select and one request's parameters.

/// `fastdrive_policy`, range-checked: the raw value comes from the host.
enum SelectionPolicy: UInt32, CaseIterable, Sendable {
    case reconPruner = 0
    case divPrune = 1
    case attention = 2
    case visPruner = 3
    case norm = 4
    case uniform = 5
    case random = 6

    /// The C enumerator's name, for messages.
    var name: String {
        switch self {
        case .reconPruner: "FASTDRIVE_POLICY_RECONPRUNER"
        case .divPrune: "FASTDRIVE_POLICY_DIVPRUNE"
        case .attention: "FASTDRIVE_POLICY_ATTENTION"
        case .visPruner: "FASTDRIVE_POLICY_VISPRUNER"
        case .norm: "FASTDRIVE_POLICY_NORM"
        case .uniform: "FASTDRIVE_POLICY_UNIFORM"
        case .random: "FASTDRIVE_POLICY_RANDOM"
        }
    }

    /// Whether the policy cannot run without host importance scores (`aux`).
    var requiresAux: Bool { self == .attention || self == .visPruner }

    /// Whether the policy reads `aux` when it is given (RECONPRUNER takes it as precomputed scores).
    var usesAux: Bool { requiresAux || self == .reconPruner }

    /// Whether the policy reads token values (so they are converted and checked for NaN/Inf);
    /// RECONPRUNER reads them only when it scores (no `aux`).
    var readsTokenValues: Bool { self == .divPrune || self == .visPruner || self == .norm }
}

/// One validated fastdrive_select call: policy, K, host scores and the policy's parameters.
struct SelectionRequest {
    let policy: SelectionPolicy
    let k: Int
    /// Host per-token scores ([n], no NaN), or nil; Pruner.select may point it at a staged copy.
    var aux: VectorView?
    /// VisPruner's share of K taken by importance, in (0, 1].
    let importantRatio: Double
    let seed: UInt64

    /// Validates the host's fields against `n` tokens: the policy value, 1 <= k <= n, aux where
    /// required (count n, no NaN; ±Inf rank as numbers), and VisPruner's ratio (0 = default).
    init(policy rawPolicy: UInt32, k: Int64, aux: UnsafePointer<Float>?, auxCount: Int64,
         importantRatio: Double, seed: UInt64, n: Int) throws(PrunerError) {
        guard let policy = SelectionPolicy(rawValue: rawPolicy) else {
            throw .invalidArgument("params->policy = \(rawPolicy) is not a fastdrive_policy value (0...\(SelectionPolicy.allCases.count - 1))")
        }
        guard k >= 1, k <= Int64(n) else {
            throw .invalidArgument("params->k = \(k) is outside 1...n_tokens (n_tokens = \(n))")
        }
        var view: VectorView?
        if policy.usesAux, let aux {
            guard auxCount == Int64(n) else {
                throw .invalidArgument("params->aux_count = \(auxCount) but tokens->n_tokens = \(n)")
            }
            let v = VectorView(base: aux, count: n)
            if let bad = Kernels.firstNaN(v) { throw .invalidArgument("params->aux[\(bad)] is NaN") }
            view = v
        } else if policy.requiresAux {
            throw .invalidArgument("\(policy.name) needs params->aux: n_tokens per-token importance scores")
        }
        var ratio = importantRatio
        if policy == .visPruner {
            if ratio == 0 { ratio = Self.defaultImportantRatio }
            guard ratio > 0, ratio <= 1 else {
                throw .invalidArgument("params->important_ratio = \(importantRatio) is outside (0, 1] (0 = default \(Self.defaultImportantRatio))")
            }
        }
        self.policy = policy
        self.k = Int(k)
        self.aux = view
        self.importantRatio = ratio
        self.seed = seed
    }

    /// VisPruner's default important ratio: the official code's `--important_ratio 0.5`
    /// (Theia-4869/VisPruner, llava/eval/model_vqa_loader.py), i.e. half important, half diverse.
    static let defaultImportantRatio = 0.5
}
