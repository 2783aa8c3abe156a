// TensorInfo.swift — one entry of a safetensors header, after structural validation.

/// A tensor's header entry. Offsets are relative to the data buffer (file offset 8 + N + begin),
/// `end` exclusive; `byteCount == end - begin` has been checked against shape × dtype.
package struct TensorInfo: Equatable, Sendable {
    package let name: String
    let dtype: SafetensorsDType
    package let shape: [Int]
    package let begin: Int
    package let end: Int

    package var dtypeName: String { dtype.rawValue }
    package var elementCount: Int { shape.reduce(1, *) }  // checked when the header was read
    package var byteCount: Int { end - begin }
}
