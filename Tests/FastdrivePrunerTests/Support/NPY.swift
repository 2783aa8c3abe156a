// NPY.swift — a minimal .npy reader for fixtures (little-endian f32/f16, C order).

import Foundation

struct NPY {
    var shape: [Int]
    var descr: String
    var payload: [UInt8]

    init(path: String) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let major = data[6]
        let start = major == 1 ? 10 : 12
        let length = major == 1 ? Int(data[8]) | Int(data[9]) << 8
            : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        let header = String(decoding: data[start..<start + length], as: UTF8.self)
        let descrRange = header.range(of: "'descr': '")!
        descr = String(header[descrRange.upperBound...].prefix { $0 != "'" })
        let shapeText = header[header.range(of: "(")!.upperBound..<header.range(of: ")")!.lowerBound]
        shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        payload = Array(data[(start + length)...])
    }

    /// The values as f32 (from <f4 or <f2).
    var floats: [Float] {
        switch descr {
        case "<f4": return payload.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        case "<f2": return payload.withUnsafeBytes { $0.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
        default: fatalError("unsupported fixture dtype \(descr)")
        }
    }
}
