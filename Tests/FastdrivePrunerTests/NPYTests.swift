// NPYTests.swift — the .npy reader shared by the CLI and these tests (Sources/NPY), seed by seed.

import Foundation
import NPY
import Testing

@Suite("NPY reader")
struct NPYTests {
    static let corpus = TestFiles.fixtures.deletingLastPathComponent().appendingPathComponent("fuzz/npy-corpus")

    static var seeds: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()) ?? []
    }

    /// A seed's bytes. (Not Data(contentsOf:): Foundation leaks its buffer on an empty file,
    /// which LeakSanitizer reports.)
    static func bytes(_ name: String) -> [UInt8] {
        guard let f = fopen(corpus.appendingPathComponent(name).path, "rb") else { return [] }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    @Test("the seed corpus is there")
    func corpusPresent() {
        #expect(Self.seeds.filter { $0.hasPrefix("valid-") }.count >= 10)
        #expect(Self.seeds.filter { $0.hasPrefix("bad-") }.count >= 40)
    }

    @Test("every valid-* seed parses and round-trips; every bad-* seed is rejected with a message",
          arguments: seeds)
    func seed(_ name: String) throws {
        let bytes = Self.bytes(name)
        if name.hasPrefix("valid-") {
            let a = try NPYArray(parsing: bytes)
            #expect(a.payload.count == (try a.header.payloadLength()))
            #expect(try NPYArray(parsing: a.serialized()) == a)
        } else {
            #expect(throws: NPYError.self) { try NPYArray(parsing: bytes) }
            do { _ = try NPYArray(parsing: bytes) } catch { #expect(!error.description.isEmpty) }
        }
    }

    @Test("shapes and dtypes as numpy wrote them")
    func shapes() throws {
        let read = { (name: String) throws -> NPYArray in try NPYArray(parsing: Self.bytes(name)) }
        #expect(try read("valid-f32-2x3").shape == [2, 3])
        #expect(try read("valid-f32-0d").shape == [])
        #expect(try read("valid-f32-zero-rows").shape == [0, 128])
        #expect(try read("valid-bf16-v2-3x2").descr == "<V2")
        #expect(try read("valid-f32-keys-reordered") == (try read("valid-f32-2x3")))
    }

    @Test("files: a FIFO without a writer is an empty input at once; /dev/zero is not read to its end")
    func specialFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("tokens.npy").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, fragment) in [(fifo, "empty input"), ("/dev/zero", "not a .npy file"), (dir.path, "directory"),
                                 (dir.appendingPathComponent("missing.npy").path, "No such file")] {
            #expect(throws: NPYError.self) { try path.withCString { p throws(NPYError) in try NPYFile.read(path: p, name: path) } }
            do {
                _ = try path.withCString { p throws(NPYError) in try NPYFile.read(path: p, name: path) }
            } catch {
                #expect("\(error)".contains(fragment), "\(path): \(error)")
            }
        }
    }
}
