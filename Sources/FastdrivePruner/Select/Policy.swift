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
    case dart = 7
    case cdPruner = 8

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
        case .dart: "FASTDRIVE_POLICY_DART"
        case .cdPruner: "FASTDRIVE_POLICY_CDPRUNER"
        }
    }

    /// Whether the policy cannot run without host importance scores (`aux`).
    var requiresAux: Bool { self == .attention || self == .visPruner || self == .cdPruner }

    /// Whether the policy reads `aux` when it is given (RECONPRUNER takes it as precomputed scores).
    var usesAux: Bool { requiresAux || self == .reconPruner }

    /// Whether the policy reads token values (so they are converted and checked for NaN/Inf);
    /// RECONPRUNER reads them only when it scores (no `aux`).
    var readsTokenValues: Bool {
        self == .divPrune || self == .visPruner || self == .norm || self == .dart || self == .cdPruner
    }
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
    /// DART's pivot counts, resolved (defaults applied, limits checked); 0 for other policies.
    let imagePivots: Int
    let textPivots: Int
    /// DART's host pivot rows (dim and values checked by Pruner.select), or nil.
    let pivotRows: TokenView?
    /// CDPruner's θ, in (0, 1].
    let relevanceTheta: Double

    /// Validates the host's fields against `n` tokens: the policy value, 1 <= k <= n, aux where
    /// required (count n, no NaN; ±Inf rank as numbers, except for CDPruner's relevance, which
    /// must be finite), VisPruner's ratio, DART's pivot counts and CDPruner's θ (0 = default).
    init(policy rawPolicy: UInt32, k: Int64, aux: UnsafePointer<Float>?, auxCount: Int64,
         importantRatio: Double, seed: UInt64, imagePivots: Int64 = 0, textPivots: Int64 = 0,
         pivotRows: TokenView? = nil, relevanceTheta: Double = 0, n: Int) throws(PrunerError) {
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
        if policy == .cdPruner, let v = view, let bad = Kernels.firstNonFinite(v.base, count: v.count) {
            throw .invalidArgument("params->aux[\(bad)] = \(v[bad]): CDPRUNER's relevance must be finite")
        }
        var theta = relevanceTheta
        if policy == .cdPruner {
            if theta == 0 { theta = 1 }
            guard theta > 0, theta <= 1 else {
                throw .invalidArgument("params->relevance_theta = \(relevanceTheta) is outside (0, 1] (0 = default 1)")
            }
        }
        var pImage = 0, pText = 0
        if policy == .dart {
            (pImage, pText) = try Self.dartPivots(image: imagePivots, text: textPivots, rows: pivotRows?.n ?? 0,
                                                  k: Int(k), n: n)
        }
        self.policy = policy
        self.k = Int(k)
        self.aux = view
        self.importantRatio = ratio
        self.seed = seed
        self.imagePivots = pImage
        self.textPivots = pText
        self.pivotRows = policy == .dart && pText > 0 ? pivotRows : nil
        self.relevanceTheta = theta
    }

    /// DART's (image, text) pivot counts: 0 takes the authors' default of 4 each (capped by k
    /// and by the rows given); an explicit count must fit, and all pivots together <= maxPivots.
    static func dartPivots(image: Int64, text: Int64, rows: Int, k: Int, n: Int) throws(PrunerError) -> (Int, Int) {
        guard image >= 0 else { throw .invalidArgument("params->image_pivots = \(image) is negative (0 = default)") }
        guard text >= 0 else { throw .invalidArgument("params->text_pivots = \(text) is negative (0 = default)") }
        let pImage = image == 0 ? min(defaultPivots, k) : Int(clamping: image)
        guard pImage <= k, pImage <= n else {
            throw .invalidArgument("params->image_pivots = \(image) exceeds k = \(k) or n_tokens = \(n) (pivots are kept)")
        }
        guard text <= Int64(rows) else {
            throw .invalidArgument(rows == 0 ? "params->text_pivots = \(text) but params->pivot_rows is NULL"
                                   : "params->text_pivots = \(text) exceeds pivot_rows->n_tokens = \(rows)")
        }
        let pText = text == 0 ? min(defaultPivots, rows) : Int(text)
        guard pImage + pText <= maxPivots else {
            throw .invalidArgument("\(pImage) image + \(pText) text pivots exceed \(maxPivots)")
        }
        return (pImage, pText)
    }

    /// DART's default image and text pivot counts (the authors' pivot_image_token and
    /// pivot_text_token, ZichenWen1/DART).
    static let defaultPivots = 4
    /// At most this many DART pivots in all (TensorRT-Edge-LLM's bound).
    static let maxPivots = 64

    /// VisPruner's default important ratio: the official code's `--important_ratio 0.5`
    /// (Theia-4869/VisPruner, llava/eval/model_vqa_loader.py), i.e. half important, half diverse.
    static let defaultImportantRatio = 0.5
}
