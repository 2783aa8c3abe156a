// SafetensorsDType.swift — the safetensors dtype names, their bit sizes, and which ones hold weights here.

/// Every dtype name the safetensors format defines (rule known-dtype). An unknown name is a parse error;
/// a known one that is not F32/F16/BF16 is valid safetensors but not a valid pruner weight.
enum SafetensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64", c64 = "C64"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case f8e4m3fnuz = "F8_E4M3FNUZ", f8e5m2fnuz = "F8_E5M2FNUZ"
    case f4 = "F4", f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2"

    var bitSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz: 8
        case .f16, .bf16, .i16, .u16: 16
        case .f32, .i32, .u32: 32
        case .f64, .i64, .u64, .c64: 64
        case .f4: 4
        case .f6e2m3, .f6e3m2: 6
        }
    }

    /// The runtime's element type for the weight dtypes, nil for the rest.
    var elementType: ElementType? {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        default: nil
        }
    }
}
