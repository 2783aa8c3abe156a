// NPYHeader.swift — the header of a NumPy .npy file: its preamble and its Python-literal dict.
//
// The format (numpy/lib/format.py): magic "\x93NUMPY", major and minor version bytes, a header
// length (u16 little-endian in version 1, u32 in versions 2 and 3), then that many bytes of
// ASCII (UTF-8 in version 3) holding a Python dict literal with exactly the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces and ended by '\n'. The payload follows.
// Everything here is checked before it drives an allocation: the header length against a cap,
// every dimension against Int, their product and the byte count with overflow checks.

/// A malformed or unsupported .npy file; the message says what and where.
public struct NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The parsed header of a .npy file.
public struct NPYHeader: Equatable, Sendable {
    /// numpy's dtype string, e.g. "<f4" ('<V2' is how ml_dtypes' bfloat16 is saved).
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]

    public init(descr: String, fortranOrder: Bool = false, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    /// Cap on the header dict's length: numpy's own reader refuses more than 10 000 bytes by
    /// default (max_header_size); a few hundred is typical.
    public static let maxLength = 100_000

    /// Bytes of the fixed preamble for a major version (magic, version, length field).
    static func preambleLength(major: UInt8) throws(NPYError) -> Int {
        switch major {
        case 1: 10
        case 2, 3: 12
        default: throw NPYError("unsupported .npy version \(major) (1, 2 or 3)")
        }
    }

    /// Total bytes before the payload (preamble + dict), read from the first 10 or 12 bytes.
    /// `prefix` must hold at least the preamble; throws if it is not a .npy preamble.
    static func totalLength(prefix: [UInt8]) throws(NPYError) -> Int {
        guard prefix.count >= 6, Array(prefix[0..<6]) == magic else { throw NPYError("not a .npy file (no \\x93NUMPY magic)") }
        guard prefix.count >= 10 else { throw NPYError("truncated .npy preamble (\(prefix.count) bytes)") }
        let start = try preambleLength(major: prefix[6])
        guard prefix.count >= start else { throw NPYError("truncated .npy preamble (\(prefix.count) bytes)") }
        var length = Int(prefix[8]) | Int(prefix[9]) << 8
        if start == 12 { length |= Int(prefix[10]) << 16 | Int(prefix[11]) << 24 }
        guard length <= maxLength else {
            throw NPYError("header length \(length) is over the \(maxLength)-byte limit")
        }
        return start + length
    }

    /// Parses the header at the start of `bytes` (at least `totalLength` bytes of them) and
    /// returns it with the payload's offset.
    static func parse(_ bytes: [UInt8]) throws(NPYError) -> (NPYHeader, payloadOffset: Int) {
        let total = try totalLength(prefix: bytes)
        guard bytes.count >= total else { throw NPYError("truncated .npy header (\(bytes.count) of \(total) bytes)") }
        let start = try preambleLength(major: bytes[6])
        var parser = DictParser(bytes: bytes[start..<total])
        return (try parser.header(), total)
    }

    /// The element size of `descr`, for the little-endian or byte-order-free types this reader
    /// accepts; nil for anything else (big-endian, structured, object, strings).
    public static func elementSize(_ descr: String) -> Int? {
        switch descr {
        case "|b1", "|i1", "<i1", "|u1", "<u1": 1
        case "<f2", "<i2", "<u2", "<V2": 2
        case "<f4", "<i4", "<u4": 4
        case "<f8", "<i8", "<u8": 8
        default: nil
        }
    }

    /// Element count (product of the shape) with overflow checked.
    public func elementCount() throws(NPYError) -> Int {
        var count = 1
        for d in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NPYError("shape \(shape) has more elements than fit in memory") }
            count = c
        }
        return count
    }

    /// Payload bytes the header declares, checked.
    public func payloadLength() throws(NPYError) -> Int {
        guard !fortranOrder else { throw NPYError("Fortran-order arrays are not supported (save with np.ascontiguousarray)") }
        guard let size = Self.elementSize(descr) else {
            throw NPYError("dtype '\(descr)' is not supported (little-endian float16/float32/float64, integers, or bfloat16 as '<V2')")
        }
        let (bytes, overflow) = try elementCount().multipliedReportingOverflow(by: size)
        guard !overflow else { throw NPYError("shape \(shape) of '\(descr)' has more bytes than fit in memory") }
        return bytes
    }

    /// The header bytes numpy writes (version 1 when the dict fits 65535 bytes, else 2), padded
    /// so that the payload starts at a multiple of 64.
    public func serialized() -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(dims), }".utf8)
        let v1 = dict.count + 64 <= 65535
        let pre = v1 ? 10 : 12
        while (pre + dict.count + 1) % 64 != 0 { dict.append(0x20) }
        dict.append(0x0A)
        let n = dict.count
        var out = Self.magic + [v1 ? 1 : 2, 0]
        out += v1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        return out + dict
    }
}

/// A strict reader of the one dict literal numpy writes: string keys, and values that are
/// strings, True/False or tuples of non-negative integers. No nesting beyond one tuple, no
/// escapes; duplicate or missing keys are errors.
private struct DictParser {
    let bytes: ArraySlice<UInt8>
    var i: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        i = bytes.startIndex
    }

    mutating func header() throws(NPYError) -> NPYHeader {
        var descr: String?, fortran: Bool?, shape: [Int]?
        try expect(UInt8(ascii: "{"))
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; break }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            switch key {
            case "descr":
                guard descr == nil else { throw NPYError("header: duplicate key 'descr'") }
                skipSpace()
                guard peek == UInt8(ascii: "'") || peek == UInt8(ascii: "\"") else {
                    throw NPYError("header: 'descr' is not a simple dtype string (structured arrays are not supported)")
                }
                descr = try string()
            case "fortran_order":
                guard fortran == nil else { throw NPYError("header: duplicate key 'fortran_order'") }
                fortran = try boolean()
            case "shape":
                guard shape == nil else { throw NPYError("header: duplicate key 'shape'") }
                shape = try tuple()
            default:
                throw NPYError("header: unexpected key '\(key)'")
            }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"))
            break
        }
        // Padding: spaces, then one newline (numpy also tolerates none).
        while i < bytes.endIndex, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
        guard i == bytes.endIndex else { throw NPYError("header: unexpected bytes after the dict at offset \(i)") }
        guard let descr, let fortran, let shape else {
            throw NPYError("header: missing key(s): need 'descr', 'fortran_order' and 'shape'")
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    var peek: UInt8? { i < bytes.endIndex ? bytes[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws(NPYError) {
        skipSpace()
        guard peek == c else {
            throw NPYError("header: expected '\(Character(Unicode.Scalar(c)))' at offset \(i)")
        }
        i += 1
    }

    mutating func string() throws(NPYError) -> String {
        skipSpace()
        guard let q = peek, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else {
            throw NPYError("header: expected a quoted string at offset \(i)")
        }
        i += 1
        let start = i
        while let c = peek, c != q {
            guard c != UInt8(ascii: "\\"), c >= 0x20, c < 0x7F else {
                throw NPYError("header: unsupported character in a string at offset \(i)")
            }
            i += 1
        }
        guard peek == q else { throw NPYError("header: unterminated string") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return s
    }

    mutating func boolean() throws(NPYError) -> Bool {
        skipSpace()
        for (word, value) in [("True", true), ("False", false)] where bytes[i...].starts(with: word.utf8) {
            i += word.utf8.count
            return value
        }
        throw NPYError("header: 'fortran_order' must be True or False (offset \(i))")
    }

    mutating func tuple() throws(NPYError) -> [Int] {
        try expect(UInt8(ascii: "("))
        var dims: [Int] = []
        while true {
            skipSpace()
            if peek == UInt8(ascii: ")") { i += 1; return dims }
            dims.append(try integer())
            guard dims.count <= 32 else { throw NPYError("header: shape has more than 32 dimensions") }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: ")"))
            // (n) without a comma is a parenthesised integer in Python, not a tuple.
            guard dims.count != 1 else { throw NPYError("header: shape (\(dims[0])) is not a tuple; write (\(dims[0]),)") }
            return dims
        }
    }

    mutating func integer() throws(NPYError) -> Int {
        skipSpace()
        let start = i
        var value = 0
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw NPYError("header: dimension at offset \(start) does not fit in 64 bits") }
            value = a
            i += 1
        }
        guard i > start else {
            throw NPYError("header: expected a non-negative integer dimension at offset \(start)")
        }
        if peek == UInt8(ascii: "L") { i += 1 }  // Python 2 long, as old numpy wrote
        return value
    }
}
