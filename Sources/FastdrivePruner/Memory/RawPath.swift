// RawPath.swift — a file path as the bytes the kernel takes, and its printable form for messages.

/// A path is a byte string to POSIX, not text: Linux allows any byte but NUL and '/' in a name,
/// and a path that is not UTF-8 (an old Latin-1 file name, a Python `os.fsencode` path) must
/// reach `open` unchanged. Decoding it to a Swift String and back would replace the invalid
/// bytes with U+FFFD and open another (usually missing) file.
public struct RawPath: Sendable, CustomStringConvertible {
    /// The path's bytes, NUL-terminated.
    private let storage: [CChar]

    /// The bytes of a C string, as given.
    public init(cString: UnsafePointer<CChar>) {
        var bytes: [CChar] = []
        var p = cString
        while p.pointee != 0 {
            bytes.append(p.pointee)
            p += 1
        }
        bytes.append(0)
        storage = bytes
    }

    /// The UTF-8 bytes of `string` (cut at a NUL, as C would see it).
    public init(_ string: String) {
        self.init(bytes: string.utf8)
    }

    /// Raw bytes (cut at the first NUL, as C would see them).
    public init(bytes: some Sequence<UInt8>) {
        var out = bytes.prefix { $0 != 0 }.map { CChar(bitPattern: $0) }
        out.append(0)
        storage = out
    }

    /// Calls `body` with the NUL-terminated bytes.
    public func withCString<R, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        try storage.withUnsafeBufferPointer { (b) throws(E) -> R in try body(b.baseAddress!) }
    }

    /// The bytes without the terminating NUL.
    public var bytes: [UInt8] { storage.dropLast().map { UInt8(bitPattern: $0) } }

    /// The path for a message: UTF-8 shown as is, any other byte as \xNN, and a path longer
    /// than 160 characters shortened in the middle, so the file name and the reason that
    /// follows it survive a 256-byte error slot.
    public var description: String {
        var text = ""
        var rest = bytes[...]
        while !rest.isEmpty {
            // Longest valid UTF-8 prefix, then one escaped byte.
            var end = rest.startIndex
            var decoder = UTF8()
            var iterator = rest.makeIterator()
            var consumed = 0
            scan: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let s):
                    consumed += UTF8.width(s)
                    end = rest.startIndex + consumed
                case .emptyInput, .error:
                    break scan
                }
            }
            text += String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            rest = rest[end...]
            if let bad = rest.first {
                let hex = Array("0123456789abcdef")
                text += "\\x\(hex[Int(bad >> 4)])\(hex[Int(bad & 15)])"
                rest = rest.dropFirst()
            }
        }
        let limit = 160, head = 48, tail = 96
        guard text.count > limit else { return text }
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }
}
