// AbortSignal.swift — a handle's abort state: the host's callback and its sticky request flag.
//
// Long work polls `shouldStop()` at the start of every task and between the slices of a long
// task, on every worker; the first poll that sees a reason to stop trips the call, and every
// later poll of that call returns true at once without calling the host again. Polling is a
// relaxed atomic load or two plus, when the host gave one, its callback: cheap enough for a
// poll every few milliseconds per worker. Nothing here allocates.

import Synchronization

/// The host's abort check: C's `bool (*)(void *)`.
package typealias AbortCallback = @convention(c) (UnsafeMutableRawPointer?) -> Bool

final class AbortSignal: @unchecked Sendable {
    /// Why a call stopped, for the message.
    enum Reason: UInt8 { case none = 0, callback = 1, request = 2 }

    private let callback: AbortCallback?
    private let userData: UnsafeMutableRawPointer?
    /// Set by `request()` from any thread; stays set until `reset()`.
    private let requested = Atomic<Bool>(false)
    /// The running call's verdict (a Reason), cleared by `beginCall`.
    private let tripped = Atomic<UInt8>(0)

    init(callback: AbortCallback?, userData: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.userData = userData
    }

    /// Any thread: ask the running call, and every later one until `reset`, to stop.
    func request() { requested.store(true, ordering: .releasing) }

    /// Any thread: withdraw the request.
    func reset() { requested.store(false, ordering: .releasing) }

    /// The calling thread, before a call's work: forget the previous call's verdict.
    func beginCall() { tripped.store(0, ordering: .relaxed) }

    /// Whether the running call must stop. Any worker, any time during the call.
    @inline(__always)
    func shouldStop() -> Bool {
        if tripped.load(ordering: .relaxed) != 0 { return true }
        return pollSlow()
    }

    /// Why the call stopped, or `.none` when it ran to its end.
    var reason: Reason { Reason(rawValue: tripped.load(ordering: .acquiring)) ?? .none }

    private func pollSlow() -> Bool {
        var why = Reason.none
        if requested.load(ordering: .acquiring) {
            why = .request
        } else if let callback, callback(userData) {
            why = .callback
        }
        guard why != .none else { return false }
        // The first reason wins; a racing worker's is the same call's.
        _ = tripped.compareExchange(expected: 0, desired: why.rawValue, ordering: .acquiringAndReleasing)
        return true
    }
}
