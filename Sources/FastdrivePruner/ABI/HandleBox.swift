// HandleBox.swift — the opaque fastdrive_pruner* ⇄ Swift object mapping, and the live-handle set.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a `fastdrive_pruner *` points at: the pruner and its fixed 256-byte error slot.
final class PrunerHandle {
    let pruner: Pruner
    let lastError: ErrorSlot

    init(pruner: Pruner) {
        self.pruner = pruner
        lastError = ErrorSlot()
    }
}

/// Handles from create that destroy has not released yet. Checking membership lets every entry
/// point turn a destroyed (or never-created) handle into INVALID_ARGUMENT instead of a crash,
/// unless the allocator has since reused the address for a new handle.
///
/// Guarded by a pthread mutex that fork handlers take around fork(): a child forked while
/// another thread was inside the lock would otherwise inherit it locked, and every call in the
/// child would block for ever.
private final class LiveHandles: @unchecked Sendable {
    private var set: Set<UInt> = []
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    init() {
        pthread_atfork({ liveHandles.lock() }, { liveHandles.unlock() }, { liveHandles.unlock() })
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<R>(_ body: (inout Set<UInt>) -> R) -> R {
        lock()
        defer { unlock() }
        return body(&set)
    }
}

private let liveHandles = LiveHandles()

enum HandleBox {
    /// Retains `handle` and returns the pointer the host holds.
    static func open(_ handle: PrunerHandle) -> OpaquePointer {
        let raw = Unmanaged.passRetained(handle).toOpaque()
        liveHandles.withLock { _ = $0.insert(UInt(bitPattern: raw)) }
        return OpaquePointer(raw)
    }

    /// The handle behind `p`, or nil when `p` is NULL or not a live handle. No allocation.
    static func borrow(_ p: OpaquePointer?) -> PrunerHandle? {
        guard let p else { return nil }
        let raw = UnsafeMutableRawPointer(p)
        guard liveHandles.withLock({ $0.contains(UInt(bitPattern: raw)) }) else { return nil }
        return Unmanaged<PrunerHandle>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Forgets `p` and releases its handle; false if it was not live (double destroy).
    static func close(_ p: OpaquePointer) -> Bool {
        let raw = UnsafeMutableRawPointer(p)
        guard liveHandles.withLock({ $0.remove(UInt(bitPattern: raw)) != nil }) else { return false }
        Unmanaged<PrunerHandle>.fromOpaque(raw).release()
        return true
    }

    /// Why `borrow` returned nil, for the message.
    static func describeMissing(_ p: OpaquePointer?, parameter: String = "p") -> String {
        p == nil ? "\(parameter) is NULL" : "\(parameter) is not a live handle (destroyed, or not from fastdrive_pruner_create)"
    }
}
