// ElementType.swift — the element types of the buffers the runtime reads (tokens, weights).

/// Element types the runtime reads: the raw values match `fastdrive_dtype`.
package enum ElementType: Int32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, bf16 = 2

    package var byteSize: Int { self == .f32 ? 4 : 2 }
    package var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        }
    }
}
