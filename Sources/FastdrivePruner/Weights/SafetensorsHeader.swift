// SafetensorsHeader.swift — reads and validates a safetensors header: the container rules of
// docs/weight-file.md, in the order that page lists them (each check below names its rule).
//
// Mirrors huggingface/safetensors' `read_metadata` + `Metadata::validate`, plus two rules the
// crate does not enforce: duplicate keys are rejected (a second definition of a weight must not
// hide behind the first) and `__metadata__` values must be strings. Nothing here touches tensor
// data; it only proves that every byte range is inside the file and accounted for.

/// The validated header of a safetensors file.
package struct SafetensorsHeader: Sendable {
    /// The crate's MAX_HEADER_SIZE: checked before the header drives any allocation.
    package static let maxHeaderBytes = 100_000_000

    /// Tensors in data order (sorted by offsets).
    package let tensors: [TensorInfo]
    /// `__metadata__`, string → string, in file order.
    package let metadata: [(key: String, value: String)]
    /// Byte length N of the JSON header; data starts at file offset 8 + N.
    package let headerLength: Int

    package var dataOffset: Int { 8 + headerLength }

    package func tensor(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }
    package func metadataValue(_ key: String) -> String? { metadata.first { $0.key == key }?.value }

    /// Maps the file at `path` and validates its header (tools: `inspect`).
    package static func read(path: String) throws(PrunerError) -> SafetensorsHeader {
        try read(path: RawPath(path))
    }

    /// As `read(path:)`, for a path given as bytes (any encoding).
    package static func read(path: RawPath) throws(PrunerError) -> SafetensorsHeader {
        let file = try MappedFile(path: path)
        return try withExtendedLifetime(file) { () throws(PrunerError) in try SafetensorsHeader(file: file.bytes) }
    }

    /// Validates `file` (the whole file's bytes) against the container rules.
    package init(file: UnsafeRawBufferPointer) throws(PrunerError) {
        let fileLength = file.count
        // header-too-small
        guard fileLength >= 8 else {
            throw .format("file is \(fileLength) bytes, too small for the 8-byte header length")
        }
        // header-too-large
        let declared = file.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard declared <= UInt64(Self.maxHeaderBytes) else {
            throw .format("header length \(declared) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        let n = Int(declared)
        // header-past-end (no overflow: n <= 1e8)
        guard 8 + n <= fileLength else {
            throw .format("header length \(n) runs past the end of the \(fileLength)-byte file")
        }
        // header-utf8
        let headerBytes = Array(file[8..<8 + n])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw .format("header is not valid UTF-8")
        }
        // header-json-object
        let root = try HeaderJSONParser.parse(headerBytes)
        guard case .object(let members) = root else {
            throw .format("header must be a JSON object, found \(root.kind)")
        }
        // duplicate-key
        var seen = Set<String>()
        for m in members where !seen.insert(m.key).inserted {
            throw .format("duplicate key '\(m.key)' in header")
        }
        var metadata: [(key: String, value: String)] = []
        var tensors: [TensorInfo] = []
        for m in members {
            let (key, value) = (m.key, m.value)
            if key == "__metadata__" {
                metadata = try Self.parseMetadata(value)  // metadata-strings
            } else {
                tensors.append(try Self.parseTensor(name: key, value))  // tensor-entry, known-dtype, shape-overflow, whole-bytes, span-matches-shape
            }
        }
        // contiguous-offsets
        tensors.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var start = 0
        for t in tensors {
            guard t.begin == start, t.end >= t.begin else {
                throw .format("tensor '\(t.name)': data_offsets [\(t.begin), \(t.end)] leave a gap or overlap (expected to start at \(start))")
            }
            start = t.end
        }
        // no-trailing-bytes
        let covered = try checkedAdd(8 + n, start, or: .format("data offsets overflow"))
        guard covered == fileLength else {
            throw .format(covered < fileLength
                ? "\(fileLength - covered) trailing bytes after the last tensor"
                : "tensor data needs \(covered) bytes but the file has \(fileLength)")
        }
        self.tensors = tensors
        self.metadata = metadata
        self.headerLength = n
    }

    private static func parseMetadata(_ value: JSONValue) throws(PrunerError) -> [(key: String, value: String)] {
        guard case .object(let members) = value else {
            throw .format("__metadata__ must be an object of strings, found \(value.kind)")
        }
        var seen = Set<String>()
        var out: [(key: String, value: String)] = []
        for m in members {
            let (key, v) = (m.key, m.value)
            guard seen.insert(key).inserted else { throw .format("duplicate key '\(key)' in __metadata__") }
            guard case .string(let s) = v else {
                throw .format("__metadata__ value of '\(key)' must be a string, found \(v.kind)")
            }
            out.append((key, s))
        }
        return out
    }

    private static func parseTensor(name: String, _ value: JSONValue) throws(PrunerError) -> TensorInfo {
        guard case .object(let fields) = value else {
            throw .format("tensor '\(name)': entry must be an object, found \(value.kind)")
        }
        func field(_ key: String) throws(PrunerError) -> JSONValue {
            let matches = fields.filter { $0.key == key }
            guard matches.count == 1 else {
                throw .format("tensor '\(name)': \(matches.isEmpty ? "missing" : "duplicate") field '\(key)'")
            }
            return matches[0].value
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw .format("tensor '\(name)': dtype must be a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .format("tensor '\(name)': unknown dtype '\(dtypeName)'")
        }
        guard case .array(let dims) = try field("shape") else {
            throw .format("tensor '\(name)': shape must be an array")
        }
        var shape: [Int] = []
        for d in dims { shape.append(try unsignedInt(d, what: "shape", tensor: name)) }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2 else {
            throw .format("tensor '\(name)': data_offsets must be an array of 2 integers")
        }
        let begin = try unsignedInt(offsets[0], what: "data_offsets", tensor: name)
        let end = try unsignedInt(offsets[1], what: "data_offsets", tensor: name)
        // shape-overflow, whole-bytes, span-matches-shape: before contiguous-offsets relies on end >= begin.
        let overflow = PrunerError.format("tensor '\(name)': shape \(shape) overflows")
        var elements = 1
        for d in shape { elements = try checkedMul(elements, d, or: overflow) }
        let bits = try checkedMul(elements, dtype.bitSize, or: overflow)
        guard bits % 8 == 0 else { throw .format("tensor '\(name)': \(bits) bits is not a whole number of bytes") }
        guard end >= begin, end - begin == bits / 8 else {
            throw .format("tensor '\(name)': data_offsets [\(begin), \(end)] span \(end &- begin) bytes but shape \(shape) of \(dtypeName) needs \(bits / 8)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// A JSON number that is a non-negative integer fitting in Int (no sign, fraction or exponent).
    private static func unsignedInt(_ v: JSONValue, what: String, tensor: String) throws(PrunerError) -> Int {
        guard case .number(let text) = v,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int(text) else {
            throw .format("tensor '\(tensor)': \(what) must hold non-negative integers below 2^63")
        }
        return value
    }
}
