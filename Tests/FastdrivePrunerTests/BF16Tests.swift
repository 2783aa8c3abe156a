// BF16Tests.swift — compute = FASTDRIVE_BF16: the bf16 GEMM against Double, and the scores'
// top-K against transformers' f32 reference (docs/model.md: overlap >= 0.97 at K = N/2).

import CFastdrivePruner
import Foundation
import NPY
import Testing
@testable import FastdrivePruner

@Suite("bf16 compute")
struct BF16Tests {
    // (37, 40, 128) and (50, 33, 70) take the AMX path where it is usable (≥ 16 rows, ≥ 16 pairs):
    // 32- and 16-row blocks, a shorter last block, and (50, 33, 70) a k tail on AVX-512.
    @Test("bf16 GEMM matches a Double GEMM within bf16 rounding, partial panels and odd k included",
          arguments: [(13, 48, 37), (1, 32, 2), (25, 70, 129), (12, 16, 8), (37, 40, 128), (50, 33, 70)])
    func gemm(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        try #require(Kernels.bf16Supported, "this CPU lacks AVX512_BF16; create rejects bf16 (tested below)")
        let a = TestModel.values(m * k, seed: 11), w = TestModel.values(n * k, seed: 12)
        var c = [Float](repeating: 0.25, count: m * n)
        var packedW = [UInt16](repeating: 0, count: Kernels.packedBF16Elements(rows: n, cols: k))
        var rows = [UInt16](repeating: 0, count: Kernels.packedBF16RowElements(rows: m, cols: k))
        a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in c.withUnsafeMutableBufferPointer { cp in
            packedW.withUnsafeMutableBufferPointer { pw in rows.withUnsafeMutableBufferPointer { pr in
                let weight = Kernels.packBF16(ConstMatrixView(base: wp.baseAddress!, rows: n, cols: k), into: pw.baseAddress!)
                let scratch = PackedBF16Rows(base: pr.baseAddress!, capacity: pr.count)
                Kernels.packRowsBF16(ConstMatrixView(base: ap.baseAddress!, rows: m, cols: k), into: scratch)
                Kernels.gemmBF16(out: MatrixView(base: cp.baseAddress!, rows: m, cols: n), packed: scratch,
                                 weight: weight, accumulate: true)
            } }
        } } }
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.25, magnitude = 0.0
                for p in 0..<k {
                    exact += Double(a[i * k + p]) * Double(w[j * k + p])
                    magnitude += abs(Double(a[i * k + p]) * Double(w[j * k + p]))
                }
                // bf16 keeps 8 significant bits: each input is off by at most 2^-8 relative.
                #expect(abs(Double(c[i * n + j]) - exact) <= magnitude * 0x1p-7 + 1e-6, "(\(i), \(j))")
            }
        }
    }

    @Test("scores keep >= 0.97 of the reference top-K at K = N/2 on every fixture", arguments: FixtureCase.all())
    func parity(_ c: FixtureCase) throws {
        guard let (got, expected) = try fixtureScores(c, compute: FASTDRIVE_BF16, supported: Kernels.bf16Supported,
                                                      feature: "AVX512_BF16") else { return }
        let k = max(1, c.n_tokens / 2)
        let overlap = Set(referenceTopK(got, k)).intersection(referenceTopK(expected, k)).count
        #expect(Double(overlap) >= 0.97 * Double(k), "\(c.name): \(overlap) of \(k)")
        let scale = max(1, expected.map(abs).max()!)
        #expect(maxAbsDiff(got, expected).value <= 0.01 * scale, "\(c.name): bf16 error beyond 1 % of max|S|")
    }

    @Test("bf16 compute keeps no f32 copy of a converted linear weight but W_down; scores do not depend on where weights came from")
    func packedOnlyWeights() throws {
        try #require(Kernels.bf16Supported, "this CPU lacks AVX512_BF16; create rejects bf16 (tested above)")
        let c = TestModel.config
        // The same bf16-exact values stored as BF16 (converted at create) and as F32 (mapped).
        let values = TestModel.tensors(c).map { t -> NamedTensor in
            var bits = [UInt16](repeating: 0, count: t.values.count)
            t.values.withUnsafeBufferPointer { Kernels.convertToBF16(out: &bits, $0) }
            return NamedTensor(name: t.name, shape: t.shape, values: bits.map { Float(bitPattern: UInt32($0) << 16) })
        }
        let bf16File = TestModel.file(c, dtype: .bf16, tensors: values)
        let f32File = TestModel.file(c, dtype: .f32, tensors: values)
        let bf16 = Int32(ElementType.bf16.rawValue)
        let asF32 = try Pruner(path: bf16File, options: PrunerOptions(maxTokens: 16, threads: 2))
        let packed = try Pruner(path: bf16File, options: PrunerOptions(maxTokens: 16, threads: 2, compute: bf16))
        let mapped = try Pruner(path: f32File, options: PrunerOptions(maxTokens: 16, threads: 2, compute: bf16))
        let d = c.hiddenSize, i = c.intermediateSize, q = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        let packOnly = 4 * (2 * q * d + 2 * kv * d + 2 * i * d)  // q, o, k, v, gate, up: never read in f32
        let all = 4 * values.reduce(0) { $0 + $1.values.count }
        #expect(packed.convertedWeightBytes == all - packOnly)
        // f32 compute keeps them in f32 too, unless it packs its own copies (AVX-512: gemm_f32.c).
        #expect(asF32.convertedWeightBytes == all - (Kernels.packsWeights(.f32) ? packOnly : 0))
        #expect(mapped.convertedWeightBytes == 0)

        func scores(_ path: String) throws -> [Float] {
            var options = fastdrive_pruner_default_options()
            options.max_tokens = 16
            options.num_threads = 2
            options.compute = FASTDRIVE_BF16
            var p: OpaquePointer?
            try #require(fastdrive_pruner_create(path, &options, &p) == FASTDRIVE_OK, "\(lastError(nil))")
            defer { fastdrive_pruner_destroy(p) }
            let (status, out) = score(p, TestModel.tokens(12), n: 12, dim: d, grid: (3, 4))
            try #require(status == FASTDRIVE_OK, "\(lastError(p))")
            return out
        }
        let a = try scores(bf16File), b = try scores(f32File)
        #expect(a == b && a.allSatisfy { $0.isFinite })
    }

    @Test("f16 compute is refused as unsupported; unknown values as invalid")
    func computeOptions() {
        var options = fastdrive_pruner_default_options()
        var p: OpaquePointer?
        options.compute = FASTDRIVE_F16
        #expect(fastdrive_pruner_create(TestModel.file(), &options, &p) == FASTDRIVE_ERR_UNSUPPORTED && p == nil)
        #expect(lastError(nil).contains("F16"))
    }
}
