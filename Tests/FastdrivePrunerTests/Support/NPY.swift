// NPY.swift — fixtures as .npy arrays, through the package's one reader (Sources/NPY).

import NPY

extension NPYArray {
    /// Reads a fixture.
    init(path: String) throws {
        self = try path.withCString { p throws(NPYError) in try NPYFile.read(path: p, name: path) }
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
