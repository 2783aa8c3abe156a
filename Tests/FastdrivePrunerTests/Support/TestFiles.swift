// TestFiles.swift — temporary files, hand-built safetensors bytes and the fixture folder.

import Foundation
@testable import FastdrivePruner

enum TestFiles {
    /// Tests/Fixtures, found from this source file (fixtures are not bundled resources).
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "t.safetensors") -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastdrive-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try! Data(bytes).write(to: url)
        return url.path
    }

    /// 8-byte little-endian length + header + data, the safetensors layout.
    static func safetensors(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = declaredLength ?? UInt64(h.count)
        return withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + data
    }

    /// Validates a header over in-memory bytes.
    static func parseHeader(_ bytes: [UInt8]) throws(PrunerError) -> SafetensorsHeader {
        var result: Result<SafetensorsHeader, PrunerError>!
        bytes.withUnsafeBytes { raw in result = Result { () throws(PrunerError) in try SafetensorsHeader(file: raw) } }
        return try result.get()
    }
}
