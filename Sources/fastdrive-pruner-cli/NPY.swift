// NPY.swift — reads and writes NumPy .npy arrays (v1/v2, little-endian, C order) for the CLI.

#if canImport(Glibc)
import Glibc
#endif
import FastdrivePruner

/// A 1-D or 2-D array read from a .npy file, raw bytes kept in the file's element type.
struct NPYArray {
    var shape: [Int]
    var dtype: ElementType
    var bytes: [UInt8]

    static func read(_ path: String) throws -> NPYArray {
        let data = try readFile(path)
        guard data.count >= 10, data[0] == 0x93, Array(data[1..<6]) == Array("NUMPY".utf8) else {
            throw CLIError("'\(path)' is not a .npy file")
        }
        let major = data[6]
        let headerStart = major == 1 ? 10 : 12
        guard data.count >= headerStart else { throw CLIError("'\(path)': truncated .npy header") }
        let headerLength = major == 1
            ? Int(data[8]) | Int(data[9]) << 8
            : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        guard headerStart + headerLength <= data.count else { throw CLIError("'\(path)': truncated .npy header") }
        let header = String(decoding: data[headerStart..<headerStart + headerLength], as: UTF8.self)
        let dtype: ElementType
        if header.contains("'<f4'") { dtype = .f32 }
        else if header.contains("'<f2'") { dtype = .f16 }
        else if header.contains("'<V2'") || header.contains("bfloat16") { dtype = .bf16 }
        else { throw CLIError("'\(path)': only little-endian float32/float16 arrays are supported (header: \(header))") }
        guard header.contains("'fortran_order': False") else { throw CLIError("'\(path)': Fortran-order arrays are not supported") }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw CLIError("'\(path)': no shape in header")
        }
        let shape = header[header.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: " "))
        }
        let payload = Array(data[(headerStart + headerLength)...])
        let count = shape.reduce(1, *)
        guard payload.count == count * dtype.byteSize else {
            throw CLIError("'\(path)': \(payload.count) data bytes for shape \(shape)")
        }
        return NPYArray(shape: shape, dtype: dtype, bytes: payload)
    }

    /// Writes a float32 or int64 array.
    static func write(_ path: String, shape: [Int], descr: String, payload: UnsafeRawBufferPointer) throws {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)]
        out += header
        out += payload
        guard let f = fopen(path, "wb") else { throw CLIError("cannot write '\(path)'") }
        defer { fclose(f) }
        guard fwrite(out, 1, out.count, f) == out.count else { throw CLIError("short write to '\(path)'") }
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw CLIError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { break }
        out += chunk[0..<n]
    }
    return out
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
