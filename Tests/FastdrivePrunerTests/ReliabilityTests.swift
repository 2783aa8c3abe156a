// ReliabilityTests.swift — numerical hostility and resource limits, through the C ABI.
//
// Decisions these tests pin (README "Reliability"):
// - Finite tokens of any magnitude are accepted. Scores stay finite up to |x| ≈ 1e36 in f32
//   compute: past |x| ≈ 1.8e19, mean(x²) of RMSNorm overflows to +Inf in f32 (exactly as in
//   transformers' f32 reference), the normalised row becomes 0 and the scores follow the
//   residual stream, still finite. Near Float.greatestFiniteMagnitude scores may be ±Inf
//   (which top-K ranks as numbers); a NaN from overflow inside the layer (Inf − Inf, reachable
//   with |x| near 3.4e38 or weights that large) is FASTDRIVE_ERR_NON_FINITE, scores untouched.
// - Subnormal tokens are numbers, not errors; they score like zero tokens.
// - NaN/Inf in the tokens: FASTDRIVE_ERR_NON_FINITE, scores untouched (docs/abi.md).
// - max_tokens or a weight file that cannot fit in this machine's memory: OUT_OF_MEMORY at
//   create, before any allocation is touched; the process is never killed.
// - A weight file replaced by rename while a handle is open: the handle keeps its (MAP_PRIVATE)
//   mapping of the old inode and scores exactly as before.

import CFastdrivePruner
import Foundation
import Testing
@testable import FastdrivePruner

@Suite("Reliability")
struct ReliabilityTests {
    static let mrope = TestModel.file()
    static let flat: String = {  // rope none, bidirectional: identical tokens give identical scores
        var c = TestModel.config
        c.rope = .none
        return TestModel.file(c)
    }()
    let d = TestModel.config.hiddenSize

    func open(_ path: String = mrope, maxTokens: UInt32 = 64) -> OpaquePointer? {
        let (p, status, message) = create(path, maxTokens: maxTokens, threads: 2)
        #expect(status == FASTDRIVE_OK, "\(message)")
        return p
    }

    /// Tokens [n × d] with a mixed-sign pattern scaled by `magnitude`.
    func pattern(_ n: Int, magnitude: Float) -> [Float] {
        TestModel.tokens(n, seed: 7).map { $0 * 0.25 * magnitude }
    }

    // ---- huge magnitudes ----

    @Test("tokens of magnitude 1e30 give finite scores, with status OK",
          arguments: [Float(1e20), 1e25, 1e30, 1e36])
    func hugeTokens(magnitude: Float) {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        let (status, scores) = score(p, pattern(12, magnitude: magnitude), n: 12, dim: d, grid: (3, 4))
        #expect(status == FASTDRIVE_OK, "\(lastError(p))")
        #expect(scores.allSatisfy { $0.isFinite }, "\(scores)")
    }

    @Test("bf16 tokens of magnitude 1e30 score like the same f32 tokens")
    func hugeBF16Tokens() {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        let f32 = pattern(6, magnitude: 1e30).map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        let bf16 = f32.map { UInt16($0.bitPattern >> 16) }
        let (s1, a) = score(p, f32, n: 6, dim: d, grid: (2, 3))
        var out = [Float](repeating: .nan, count: 6)
        let s2 = bf16.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_BF16, n_tokens: 6, dim: Int64(d),
                                        row_stride: 0, grid_h: 2, grid_w: 3)
            return fastdrive_pruner_score(p, &view, &out)
        }
        #expect(s1 == FASTDRIVE_OK && s2 == FASTDRIVE_OK)
        #expect(a == out)
        #expect(out.allSatisfy { $0.isFinite })
    }

    @Test("tokens at the edge of f32 range: scores may be ±Inf, but OK never comes with a NaN score")
    func maximalTokens() {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        for sign in [Float(1), -1] {
            var tokens = pattern(8, magnitude: 4).map { $0 >= 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude }
            tokens = tokens.map { $0 * sign }
            let (status, scores) = score(p, tokens, n: 8, dim: d, grid: (2, 4))
            #expect(status == FASTDRIVE_OK || status == FASTDRIVE_ERR_NON_FINITE, "\(lastError(p))")
            if status == FASTDRIVE_OK { #expect(!scores.contains { $0.isNaN }, "\(scores)") }
            var keep = [Int64](repeating: -1, count: 4)
            let t = fastdrive_pruner_topk(p, scores, 8, 4, &keep)
            #expect(t == FASTDRIVE_OK || t == FASTDRIVE_ERR_NON_FINITE)
        }
    }

    @Test("weights near the f32 limit: a score that overflows to NaN is not returned as OK")
    func overflowingWeights() {
        // Scorer weights of ±3e38: hq ⊙ w_s overflows to ±Inf and the dot product can meet
        // Inf − Inf. The loader accepts the file (every weight is finite).
        var tensors = TestModel.tensors()
        let k = tensors.firstIndex { $0.name == "scorer.weight" }!
        tensors[k].values = tensors[k].values.enumerated().map { i, _ in i % 2 == 0 ? 3e38 : -3e38 }
        let path = TestModel.file(tensors: tensors)
        let p = open(path)
        defer { fastdrive_pruner_destroy(p) }
        let (status, scores) = score(p, pattern(6, magnitude: 4), n: 6, dim: d, grid: (2, 3))
        #expect(status == FASTDRIVE_OK || status == FASTDRIVE_ERR_NON_FINITE)
        if status == FASTDRIVE_OK {
            #expect(!scores.contains { $0.isNaN }, "\(scores)")
        } else {
            #expect(lastError(p).contains("NaN"))
            #expect(scores.allSatisfy { $0.bitPattern == Float.nan.bitPattern }, "scores written on error")
        }
        // The batch entry point applies the same rule to the stacked frames.
        let tokens = pattern(6, magnitude: 4)
        var batch = [Float](repeating: 42, count: 12)
        let batchStatus = tokens.withUnsafeBytes { raw in
            let frame = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: 6, dim: Int64(d),
                                         row_stride: 0, grid_h: 2, grid_w: 3)
            let frames = [frame, frame]
            return fastdrive_pruner_score_batch(p, frames, 2, &batch)
        }
        #expect(batchStatus == status)
        if batchStatus == FASTDRIVE_OK {
            #expect(!batch.contains { $0.isNaN })
        } else {
            #expect(batch == [Float](repeating: 42, count: 12), "scores written on error")
        }
    }

    // ---- tiny magnitudes, constant inputs ----

    @Test("subnormal tokens are accepted and score like zero tokens")
    func subnormalTokens() {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        let zero = [Float](repeating: 0, count: 6 * d)
        let (s0, ref) = score(p, zero, n: 6, dim: d, grid: (2, 3))
        #expect(s0 == FASTDRIVE_OK)
        for value in [Float.leastNonzeroMagnitude, -Float.leastNonzeroMagnitude, 1e-40, Float.leastNormalMagnitude.nextDown] {
            #expect(value.isSubnormal)
            let tokens = (0..<(6 * d)).map { $0 % 3 == 0 ? value : -value }
            let (status, scores) = score(p, tokens, n: 6, dim: d, grid: (2, 3))
            #expect(status == FASTDRIVE_OK, "\(lastError(p))")
            for (a, b) in zip(scores, ref) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(value): \(a) vs \(b)") }
        }
        // f16 subnormals (0x0001 = 2^-24) and bf16 subnormals (0x0001 = 2^-133) likewise.
        for dtype in [FASTDRIVE_F16, FASTDRIVE_BF16] {
            let halves = [UInt16](repeating: 0x0001, count: 6 * d)
            var out = [Float](repeating: .nan, count: 6)
            let status = halves.withUnsafeBytes { raw in
                var view = fastdrive_tokens(data: raw.baseAddress, dtype: dtype, n_tokens: 6, dim: Int64(d),
                                            row_stride: 0, grid_h: 2, grid_w: 3)
                return fastdrive_pruner_score(p, &view, &out)
            }
            #expect(status == FASTDRIVE_OK, "\(lastError(p))")
            #expect(out.allSatisfy { $0.isFinite })
        }
    }

    @Test("identical tokens score identically without positions (rope none, bidirectional)",
          arguments: [Float(0), 1, -3.5, 1e-30, 1e30])
    func allEqualRows(value: Float) {
        let p = open(Self.flat)
        defer { fastdrive_pruner_destroy(p) }
        let row = (0..<d).map { Float($0 % 5) * value }  // one row, repeated (a constant row when value = 0)
        let tokens = Array((0..<9).map { _ in row }.joined())
        let (status, scores) = score(p, tokens, n: 9, dim: d)
        #expect(status == FASTDRIVE_OK, "\(lastError(p))")
        #expect(scores.allSatisfy { $0.isFinite })
        for s in scores { #expect(abs(s - scores[0]) <= 1e-5 * max(1, abs(scores[0])), "\(scores)") }
    }

    @Test("a row whose elements are all equal normalises to ±weight, not NaN")
    func constantRow() {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        let tokens = (0..<(4 * d)).map { i in [Float(0), 2, -7, 1e30][i / d] }
        let (status, scores) = score(p, tokens, n: 4, dim: d, grid: (2, 2))
        #expect(status == FASTDRIVE_OK)
        #expect(scores.allSatisfy { $0.isFinite }, "\(scores)")
    }

    // ---- non-finite input ----

    @Test("NaN or Inf anywhere in f32 tokens is NON_FINITE, scores untouched",
          arguments: [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_0000)])
    func nonFiniteTokens(bad: Float) {
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        for position in [0, 5 * d + 7, 6 * d - 1] {
            var tokens = pattern(6, magnitude: 1)
            tokens[position] = bad
            let (status, scores) = score(p, tokens, n: 6, dim: d, grid: (2, 3))
            #expect(status == FASTDRIVE_ERR_NON_FINITE)
            #expect(lastError(p).contains("NaN or Inf"))
            #expect(scores.allSatisfy { $0.isNaN } && scores.allSatisfy { $0.bitPattern == Float.nan.bitPattern })
        }
    }

    @Test("NaN or Inf in f16 / bf16 tokens is NON_FINITE",
          arguments: zip([UInt32(1), 1, 2, 2], [UInt16(0x7C00), 0xFE00, 0x7F80, 0xFFC1]))
    func nonFiniteHalfTokens(rawDType: UInt32, bits: UInt16) {
        let dtype = fastdrive_dtype(rawValue: rawDType)
        let p = open()
        defer { fastdrive_pruner_destroy(p) }
        var halves = [UInt16](repeating: dtype == FASTDRIVE_F16 ? 0x3C00 : 0x3F80, count: 6 * d)  // 1.0
        halves[3 * d + 1] = bits
        var out = [Float](repeating: 42, count: 6)
        let status = halves.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: dtype, n_tokens: 6, dim: Int64(d),
                                        row_stride: 0, grid_h: 2, grid_w: 3)
            return fastdrive_pruner_score(p, &view, &out)
        }
        #expect(status == FASTDRIVE_ERR_NON_FINITE)
        #expect(out == [Float](repeating: 42, count: 6))
    }

    // ---- resource limits ----

    @Test("max_tokens far beyond this machine's memory is OUT_OF_MEMORY, not a crash")
    func hugeMaxTokens() {
        let (p, status, message) = create(Self.mrope, maxTokens: .max, threads: 1)
        #expect(status == FASTDRIVE_ERR_OUT_OF_MEMORY && p == nil)
        #expect(message.contains("max_tokens"))
    }

    @Test("a (sparse) weight file whose converted weights exceed memory is OUT_OF_MEMORY or FORMAT")
    func hugeDeclaredWeights() throws {
        // D = 65536, I = 2^20 in BF16: a 412 GB file (sparse: no disk used) whose f32 copy
        // would need 824 GB. The header is valid and covers the file exactly (rule no-trailing-bytes).
        var c = PrunerConfig()
        c.hiddenSize = 65536
        c.intermediateSize = 1 << 20
        c.heads = 64
        c.kvHeads = 64
        c.headDim = 1024
        c.mropeSection = [128, 192, 192]
        c.rope = .none
        var entries: [String] = []
        var offset = 0
        for (name, shape) in c.tensorShapes {
            let bytes = shape.reduce(1, *) * 2
            entries.append("\"\(name)\":{\"dtype\":\"BF16\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        let meta = c.metadata.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        var header = Array("{\"__metadata__\":{\(meta)},\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let path = TestFiles.write(TestFiles.safetensors(header: String(decoding: header, as: UTF8.self), data: []),
                                   name: "huge.safetensors")
        defer { unlink(path) }
        let total = 8 + header.count + offset
        guard truncate(path, off_t(total)) == 0 else {
            Issue.record("cannot make a \(total)-byte sparse file here: \(String(cString: strerror(errno)))")
            return
        }
        let (p, status, message) = create(path, maxTokens: 1, threads: 1)
        #expect(p == nil)
        #expect(status == FASTDRIVE_ERR_OUT_OF_MEMORY, "\(status): \(message)")
        #expect(message.contains("this process can get"), "\(message)")
    }

    @Test("a weight file replaced by rename keeps an open handle working, bit for bit")
    func replacedByRename() throws {
        let path = TestModel.file()
        let p = open(path)
        defer { fastdrive_pruner_destroy(p) }
        let tokens = pattern(6, magnitude: 1)
        let (s1, before) = score(p, tokens, n: 6, dim: d, grid: (2, 3))
        #expect(s1 == FASTDRIVE_OK)

        // Write a different model next to it and rename it over the open file.
        let other = TestModel.file(tensors: TestModel.tensors(seed: 2))
        #expect(rename(other, path) == 0)
        let (s2, after) = score(p, tokens, n: 6, dim: d, grid: (2, 3))
        #expect(s2 == FASTDRIVE_OK)
        #expect(before.map(\.bitPattern) == after.map(\.bitPattern))

        // A new handle sees the new file.
        let q = open(path)
        defer { fastdrive_pruner_destroy(q) }
        let (s3, fresh) = score(q, tokens, n: 6, dim: d, grid: (2, 3))
        #expect(s3 == FASTDRIVE_OK)
        #expect(fresh != before)

        // Unlinking the path entirely does not matter either.
        #expect(unlink(path) == 0)
        let (s4, again) = score(p, tokens, n: 6, dim: d, grid: (2, 3))
        #expect(s4 == FASTDRIVE_OK && again.map(\.bitPattern) == before.map(\.bitPattern))
    }

    @Test("1000 create/destroy cycles leave no handle behind (live-handle set and error slots)")
    func createDestroyCycles() {
        for _ in 0..<1000 {
            let (p, status, _) = create(Self.mrope, maxTokens: 4, threads: 2)
            #expect(status == FASTDRIVE_OK)
            fastdrive_pruner_destroy(p)
            #expect(fastdrive_pruner_describe(p, nil) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        }
    }
}
