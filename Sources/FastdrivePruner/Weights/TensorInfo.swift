// TensorInfo.swift — one entry of a safetensors header, after structural validation.

/// A tensor's header entry. Offsets are relative to the data buffer (file offset 8 + N + begin),
/// `end` exclusive; `byteCount == end - begin` has been checked against shape × dtype.
public struct TensorInfo: Equatable, Sendable {
    public let name: String
    let dtype: SafetensorsDType
    public let shape: [Int]
    public let begin: Int
    public let end: Int

    public var dtypeName: String { dtype.rawValue }
    public var elementCount: Int { shape.reduce(1, *) }  // checked when the header was read
    public var byteCount: Int { end - begin }
}
