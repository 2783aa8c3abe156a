// SafetensorsWriter.swift — writes a pruner weight file (docs/weight-file.md) (header padded to 8, tensors aligned).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One tensor to write: name, shape and f32 values (stored as F32, F16 or BF16).
package struct NamedTensor: Sendable {
    package let name: String
    package let shape: [Int]
    package var values: [Float]

    package init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Writes weight files for the tools and tests (the runtime itself only reads). Not API.
package enum SafetensorsWriter {
    /// Writes `tensors` with `metadata` to `path`, storing every tensor as `dtype`; returns bytes written.
    package static func write(path: String, tensors: [NamedTensor], metadata: [(key: String, value: String)],
                             dtype: ElementType) throws(PrunerError) -> Int {
        try write(path: RawPath(path), tensors: tensors, metadata: metadata, dtype: dtype)
    }

    /// As above, for a path given as bytes (any encoding).
    public static func write(path: RawPath, tensors: [NamedTensor], metadata: [(key: String, value: String)],
                             dtype: ElementType) throws(PrunerError) -> Int {
        var entries: [String] = []
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * dtype.byteSize
            entries.append("\"\(t.name)\":{\"dtype\":\"\(dtype.name)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        let meta = metadata.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        var header = Array("{\"__metadata__\":{\(meta)},\(entries.joined(separator: ","))}".utf8)
        // Pad with spaces to a multiple of 8 so the data (and every F32 tensor) is aligned.
        while header.count % 8 != 0 { header.append(0x20) }

        guard let f = path.withCString({ fopen($0, "wb") }) else {
            let reason = MappedFile.describeErrno()
            throw .io("cannot write '\(path)': \(reason)")
        }
        var n = UInt64(header.count).littleEndian
        var ok = fwrite(&n, 8, 1, f) == 1 && fwrite(header, 1, header.count, f) == header.count
        for t in tensors where ok {
            ok = t.values.withUnsafeBufferPointer { v in
                switch dtype {
                case .f32:
                    return fwrite(v.baseAddress, 4, v.count, f) == v.count
                case .f16:
                    let h = v.map { Float16($0).bitPattern }
                    return fwrite(h, 2, h.count, f) == h.count
                case .bf16:
                    var b = [UInt16](repeating: 0, count: v.count)
                    Kernels.convertToBF16(out: &b, v)
                    return fwrite(b, 2, b.count, f) == b.count
                }
            }
        }
        // fclose flushes the last buffer: a full disk shows up here, not in fwrite.
        let closed = fclose(f) == 0
        guard ok && closed else {
            let reason = MappedFile.describeErrno()
            throw .io("cannot write '\(path)': \(reason)")
        }
        return 8 + header.count + offset
    }
}
