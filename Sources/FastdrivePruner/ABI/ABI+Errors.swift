// ABI+Errors.swift — status strings, last_error, and the one PrunerError → status mapping.

import CFastdrivePruner

extension PrunerError {
    /// The C status of each error case: the only place a Swift error becomes a code.
    var status: fastdrive_status {
        switch self {
        case .invalidArgument: FASTDRIVE_ERR_INVALID_ARGUMENT
        case .io: FASTDRIVE_ERR_IO
        case .format: FASTDRIVE_ERR_FORMAT
        case .shape: FASTDRIVE_ERR_SHAPE
        case .capacity: FASTDRIVE_ERR_CAPACITY
        case .nonFinite: FASTDRIVE_ERR_NON_FINITE
        case .outOfMemory: FASTDRIVE_ERR_OUT_OF_MEMORY
        case .unsupported: FASTDRIVE_ERR_UNSUPPORTED
        case .internalFailure: FASTDRIVE_ERR_INTERNAL
        case .aborted: FASTDRIVE_ERR_ABORTED
        }
    }
}

/// Records `error` where the host will look for it (the handle's slot, or the thread's when
/// there is no live handle) and returns its status.
func fail(_ error: PrunerError, function: StaticString, handle: PrunerHandle? = nil) -> fastdrive_status {
    let slot = handle?.lastError ?? ThreadErrorSlot.current
    // #function reads "fastdrive_pruner_create(_:_:_:)": keep the C name.
    let name = "\(function)".prefix { $0 != "(" }
    slot.set("\(name): \(error.message)")
    return error.status
}

@c @implementation
public func fastdrive_status_string(_ s: fastdrive_status) -> UnsafePointer<CChar>? {
    let text: StaticString = switch s {
    case FASTDRIVE_OK: "ok"
    case FASTDRIVE_ERR_INVALID_ARGUMENT: "invalid argument"
    case FASTDRIVE_ERR_IO: "I/O error"
    case FASTDRIVE_ERR_FORMAT: "invalid weight file"
    case FASTDRIVE_ERR_SHAPE: "shape mismatch"
    case FASTDRIVE_ERR_CAPACITY: "over capacity"
    case FASTDRIVE_ERR_NON_FINITE: "non-finite value"
    case FASTDRIVE_ERR_OUT_OF_MEMORY: "out of memory"
    case FASTDRIVE_ERR_UNSUPPORTED: "unsupported"
    case FASTDRIVE_ERR_INTERNAL: "internal error"
    case FASTDRIVE_ERR_ABORTED: "aborted"
    default: "unknown status"
    }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func fastdrive_pruner_last_error(_ p: OpaquePointer?) -> UnsafePointer<CChar>? {
    // A pointer that is not a live handle (destroyed, or never created) has no slot of its own;
    // the call that was refused for it wrote the calling thread's slot, naming itself
    // ("fastdrive_pruner_score: p is not a live handle ..."), so that is the message to return.
    guard let handle = HandleBox.borrow(p) else { return UnsafePointer(ThreadErrorSlot.current.text) }
    return UnsafePointer(handle.lastError.text)
}
