// NPYArray.swift — a NumPy .npy array in memory: header + raw C-order payload, parsed strictly.

/// An array read from (or to be written as) a .npy file: the header and the payload bytes in
/// the file's element type, C order. Parsing checks every size before allocating.
public struct NPYArray: Equatable, Sendable {
    public var header: NPYHeader
    public var payload: [UInt8]

    public var shape: [Int] { header.shape }
    public var descr: String { header.descr }

    /// An array from its parts; the payload must match the header (checked).
    public init(header: NPYHeader, payload: [UInt8]) throws(NPYError) {
        let expected = try header.payloadLength()
        guard payload.count == expected else {
            throw NPYError("\(payload.count) data bytes for shape \(header.shape) of '\(header.descr)' (\(expected) expected)")
        }
        self.header = header
        self.payload = payload
    }

    /// Parses a whole .npy file's bytes.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(NPYError) {
        let total = try NPYHeader.totalLength(prefix: Array(bytes.prefix(12)))
        guard bytes.count >= total else { throw NPYError("truncated .npy header (\(bytes.count) of \(total) bytes)") }
        let (header, offset) = try NPYHeader.parse(Array(bytes[0..<total]))
        let expected = try header.payloadLength()
        let available = bytes.count - offset
        guard available == expected else {
            throw NPYError(available < expected
                ? "truncated: \(available) data bytes for shape \(header.shape) of '\(header.descr)' (\(expected) expected)"
                : "\(available - expected) bytes after the data of shape \(header.shape) of '\(header.descr)'")
        }
        self.header = header
        payload = Array(bytes[offset...])
    }

    /// Parses a whole .npy file's bytes.
    public init(parsing bytes: [UInt8]) throws(NPYError) {
        var result: Result<NPYArray, NPYError>!
        bytes.withUnsafeBytes { raw in result = Result { () throws(NPYError) in try NPYArray(parsing: raw) } }
        self = try result.get()
    }

    /// The file's bytes: header (numpy's layout, payload 64-byte aligned) then payload.
    public func serialized() -> [UInt8] { header.serialized() + payload }
}
