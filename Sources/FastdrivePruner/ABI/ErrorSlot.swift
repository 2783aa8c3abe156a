// ErrorSlot.swift — fixed-size C strings for last_error: per handle and per thread.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A 256-byte NUL-terminated message buffer, allocated once. Its address is stable, so
/// `last_error` hands it out without allocating; longer messages are truncated, never grown.
final class ErrorSlot {
    static let capacity = 256
    let text: UnsafeMutablePointer<CChar>

    init() {
        text = .allocate(capacity: Self.capacity)
        text.initialize(repeating: 0, count: Self.capacity)
    }

    deinit { text.deallocate() }

    /// Stores `message`, cut before a character that would not fit whole.
    func set(_ message: String) {
        var bytes = Array(message.utf8)
        if bytes.count > Self.capacity - 1 {
            var end = Self.capacity - 1
            while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }  // back to a lead byte
            bytes.removeSubrange(end...)
        }
        bytes.append(0)
        bytes.withUnsafeBytes { src in _ = memcpy(text, src.baseAddress!, src.count) }
    }
}

/// The calling thread's message for failures that have no handle (create, NULL handles).
enum ThreadErrorSlot {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<ErrorSlot>.fromOpaque(raw).release()
        }
        return key
    }()

    static var current: ErrorSlot {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<ErrorSlot>.fromOpaque(raw).takeUnretainedValue()
        }
        let slot = ErrorSlot()
        pthread_setspecific(key, Unmanaged.passRetained(slot).toOpaque())
        return slot
    }
}
