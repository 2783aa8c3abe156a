// ComputeType.swift — what a handle's matrix products compute in (fastdrive_pruner_options.compute).

/// The arithmetic of the linear layers and of attention's two products; raw values match
/// `fastdrive_dtype` (int8 is a compute type only, never a token or weight element type). Norms,
/// RoPE, softmax and the scorer are f32 whatever this is.
///
/// A new compute type is a new case here. The compiler then points at every decision that
/// depends on it (each is an exhaustive switch), and they sit in three places:
/// `Core/PrunerOptions.swift` (can this CPU run it), `Kernels/Linear.swift` (how weights are
/// packed at create, what scratch a worker converts its rows into, which matrix kernel runs) and
/// `Model/ForwardPlan.swift` (`attentionInBF16`: what attention's products run in).
enum ComputeType: Int32, Sendable {
    case f32 = 0
    /// bf16 inputs, f32 accumulation (AVX512_BF16).
    case bf16 = 2
    /// Linear layers in int8: weights symmetric per output channel (quantized at create),
    /// activations asymmetric u8 per row (at run time), int32 accumulation (AVX512-VNNI).
    case int8 = 3
}
