// PrunerError.swift — the runtime's closed error model: one case per C status.

/// Everything that can go wrong, one case per `fastdrive_status`. Core code throws it with
/// typed throws, so the ABI shim's `catch` is exhaustive; the message travels separately from
/// the code and reaches the host through `fastdrive_pruner_last_error`.
package enum PrunerError: Error, Equatable, Sendable {
    case invalidArgument(String)
    case io(String)
    case format(String)
    case shape(String)
    case capacity(String)
    case nonFinite(String)
    case outOfMemory(String)
    case unsupported(String)
    case internalFailure(String)
    /// The host stopped the call (abort callback or request): not a fault of the handle.
    case aborted(String)

    /// The one-line detail for `last_error`.
    package var message: String {
        switch self {
        case .invalidArgument(let m), .io(let m), .format(let m), .shape(let m), .capacity(let m),
             .nonFinite(let m), .outOfMemory(let m), .unsupported(let m), .internalFailure(let m),
             .aborted(let m):
            return m
        }
    }
}

/// Checked arithmetic for sizes that come from caller data or file headers: overflow is the
/// given error, never a trap (safetensors' `checked_mul`).
@inline(__always)
func checkedMul(_ a: Int, _ b: Int, or error: @autoclosure () -> PrunerError) throws(PrunerError) -> Int {
    let (r, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow { throw error() }
    return r
}

@inline(__always)
func checkedAdd(_ a: Int, _ b: Int, or error: @autoclosure () -> PrunerError) throws(PrunerError) -> Int {
    let (r, overflow) = a.addingReportingOverflow(b)
    if overflow { throw error() }
    return r
}

extension PrunerError {
    /// CAPACITY for `what` ("3250 tokens", "n = 5000 scores") beyond a handle's max_tokens: the
    /// one wording of that message.
    static func overCapacity(_ what: String, maxTokens: Int) -> PrunerError {
        .capacity("\(what) but the handle was created with max_tokens = \(maxTokens)")
    }
}
