// ParityTests.swift — scores against transformers' Qwen2_5_VLDecoderLayer (fixtures from
// scripts/make_reference.py), within the f32 tolerance of docs/model.md, and the same top-K sets.

import CFastdrivePruner
import Foundation
import NPY
import Testing

struct FixtureCase: Codable, Sendable, CustomTestStringConvertible {
    let name: String
    let n_tokens: Int
    let dim: Int
    let grid_h: Int
    let grid_w: Int
    let rope: String
    let attention: String
    let weights_dtype: String
    let tokens_dtype: String

    var testDescription: String { name }

    static func all() -> [FixtureCase] {
        let url = TestFiles.fixtures.appendingPathComponent("cases.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([FixtureCase].self, from: data)) ?? []
    }
}

@Suite("parity with transformers")
struct ParityTests {
    @Test("the fixture set is present and covers every mode")
    func coverage() {
        let cases = FixtureCase.all()
        #expect(cases.count >= 8, "run scripts/make_reference.py")
        for rope in ["none", "1d", "mrope"] {
            for attention in ["bidirectional", "causal"] {
                #expect(cases.contains { $0.rope == rope && $0.attention == attention }, "\(rope)/\(attention)")
            }
        }
        for dtype in ["f32", "f16", "bf16"] { #expect(cases.contains { $0.weights_dtype == dtype }, "\(dtype) weights") }
    }

    @Test("scores match within 1e-3 · max(1, max|S|) and top-K sets agree", arguments: FixtureCase.all())
    func parity(_ c: FixtureCase) throws {
        let base = TestFiles.fixtures.appendingPathComponent(c.name).path
        let tokens = try NPYArray(path: base + ".tokens.npy")
        let expected = try NPYArray(path: base + ".scores.npy").floats
        #expect(tokens.shape == [c.n_tokens, c.dim])
        for threads: UInt32 in [1, 2] {
            let (p, status, message) = create(base + ".safetensors", maxTokens: UInt32(c.n_tokens + 3), threads: threads)
            try #require(status == FASTDRIVE_OK, "\(message)")
            defer { fastdrive_pruner_destroy(p) }
            var got = [Float](repeating: .nan, count: c.n_tokens)
            let dtype = tokens.descr == "<f2" ? FASTDRIVE_F16 : FASTDRIVE_F32
            let s = tokens.payload.withUnsafeBytes { raw in
                var t = fastdrive_tokens(data: raw.baseAddress, dtype: dtype, n_tokens: Int64(c.n_tokens), dim: Int64(c.dim),
                                         row_stride: 0, grid_h: Int32(c.grid_h), grid_w: Int32(c.grid_w))
                return fastdrive_pruner_score(p, &t, &got)
            }
            try #require(s == FASTDRIVE_OK, "\(lastError(p))")
            let scale = max(1, expected.map(abs).max()!)
            let diff = maxAbsDiff(got, expected)
            #expect(diff.value <= 1e-3 * scale, "\(c.name): max diff \(diff.value) at \(diff.index) (scale \(scale))")
            // Top-K sets agree up to ties within the tolerance.
            for k in [1, c.n_tokens / 4, c.n_tokens / 2, c.n_tokens - 1] where k >= 1 {
                var idx = [Int64](repeating: 0, count: k)
                #expect(fastdrive_pruner_topk(p, got, Int64(c.n_tokens), Int64(k), &idx) == FASTDRIVE_OK)
                let mine = Set(idx.map(Int.init)), theirs = Set(referenceTopK(expected, k))
                let threshold = expected[referenceTopK(expected, k).min { expected[$0] < expected[$1] }!]
                for i in mine.symmetricDifference(theirs) {
                    #expect(abs(expected[i] - threshold) <= 2e-3 * scale, "\(c.name) k=\(k): token \(i) differs beyond a tie")
                }
            }
        }
    }
}
