// RoPEMode.swift — the positions of the pruner layer (weight-file key `rope`, docs/model.md).

/// Positions inside the pruner layer; raw values match `fastdrive_rope`.
package enum RoPEMode: Int32, Sendable {
    case none = 0, oneD = 1, mrope = 2

    init?(name: String) {
        switch name {
        case "none": self = .none
        case "1d": self = .oneD
        case "mrope": self = .mrope
        default: return nil
        }
    }

    package var name: String {
        switch self {
        case .none: "none"
        case .oneD: "1d"
        case .mrope: "mrope"
        }
    }
}
