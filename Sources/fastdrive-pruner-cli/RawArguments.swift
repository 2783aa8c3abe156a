// RawArguments.swift — a path argument back as the bytes it had on the command line.
//
// The argument parser hands out Swift Strings, which hold valid Unicode only: an argument that
// is not UTF-8 (a Latin-1 file name) arrives with U+FFFD in place of its bad bytes, and opening
// that String would open another (usually missing) file. The original bytes are still in argv.

import FastdrivePruner

enum RawArguments {
    /// The bytes of the argument that decoded to `value` (also as the value of --opt=value).
    /// A value without U+FFFD was valid UTF-8, so its own bytes are the argument's.
    static func path(_ value: String) throws -> RawPath {
        guard value.unicodeScalars.contains("\u{FFFD}") else { return RawPath(value) }
        let target = Array(value.utf8)
        var found: [[UInt8]] = []
        for i in 1..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[i] else { continue }
            var bytes: [UInt8] = []
            var p = arg
            while p.pointee != 0 {
                bytes.append(UInt8(bitPattern: p.pointee))
                p += 1
            }
            var candidates = [bytes]
            if bytes.starts(with: Array("--".utf8)), let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                candidates.append(Array(bytes[(eq + 1)...]))
            }
            for c in candidates where Array(String(decoding: c, as: UTF8.self).utf8) == target && !found.contains(c) {
                found.append(c)
            }
        }
        guard found.count <= 1 else {
            throw CLIError("two arguments differ only in bytes that are not UTF-8 ('\(value)'); rename one of the files")
        }
        return found.first.map { RawPath(bytes: $0) } ?? RawPath(value)
    }
}
