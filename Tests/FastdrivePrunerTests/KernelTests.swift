// KernelTests.swift — the C kernels against plain Swift loops in Double.

import CKernels
import Testing
@testable import FastdrivePruner

@Suite("kernels")
struct KernelTests {
    @Test("f32 GEMM over packed weights matches Double, partial panels, k blocks and column slices included",
          arguments: [(13, 48, 37), (1, 32, 2), (25, 70, 300), (12, 80, 513)])
    func packedF32Gemm(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        try #require(Kernels.f32PackedSupported, "no AVX-512: f32 compute reads its weights through OpenBLAS")
        let a = TestModel.values(m * k, seed: 31), w = TestModel.values(n * k, seed: 32)
        var c = [Float](repeating: 0.5, count: m * n)
        var packed = [Float](repeating: .nan, count: Kernels.packedF32Elements(rows: n, cols: k))
        a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pp in
            c.withUnsafeMutableBufferPointer { cp in
                let weight = LinearWeight(f32: nil, packed: .f32(Kernels.packF32(
                    ConstMatrixView(base: wp.baseAddress!, rows: n, cols: k), into: pp.baseAddress!)), rows: n, cols: k)
                let out = MatrixView(base: cp.baseAddress!, rows: m, cols: n)
                // Two column slices (one starting on the second panel), as the stepped products cut them.
                let split = n > 32 ? 32 : n
                for (c0, count) in [(0, split), (split, n - split)] where count > 0 {
                    Kernels.linear(out: out.columns(c0, count), ConstMatrixView(base: ap.baseAddress!, rows: m, cols: k),
                                   weight: weight.rows(c0, count), accumulate: true, scratch: .none)
                }
            }
        } } }
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.5, magnitude = 0.5
                for p in 0..<k {
                    exact += Double(a[i * k + p]) * Double(w[j * k + p])
                    magnitude += abs(Double(a[i * k + p]) * Double(w[j * k + p]))
                }
                #expect(abs(Double(c[i * n + j]) - exact) <= magnitude * Double(k + 1) * 0x1p-24, "(\(i), \(j))")
            }
        }
    }

    @Test("fast exp is within 2 ulp of libm over the attention range")
    func fastExp() {
        var x = [Float]()
        var v: Float = -87
        while v < 88 { x.append(v); v += 0.0137 }
        var e = x
        fdk_exp(&e, Int64(e.count))
        for (xi, got) in zip(x, e) {
            let want = Float(Foundation_exp(Double(xi)))
            #expect(abs(got - want) <= 2 * want.ulp, "exp(\(xi)) = \(got), want \(want)")
        }
    }

    @Test("f16 and bf16 conversion is exact, finds the first non-finite value")
    func conversion() {
        let halves: [UInt16] = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0x7C00, 0xFC00, 0x7E00]
        var out = [Float](repeating: 0, count: halves.count)
        let bad = fdk_convert_to_f32(&out, halves, 1, Int64(halves.count))
        #expect(bad == 8)
        for (h, f) in zip(halves, out) {
            let want = Float(Float16(bitPattern: h))
            #expect(f.bitPattern == want.bitPattern || (f.isNaN && want.isNaN), "half \(h)")
        }
        let bf: [UInt16] = [0x3F80, 0xC049, 0x0001, 0x7F7F]
        var out2 = [Float](repeating: 0, count: 4)
        #expect(fdk_convert_to_f32(&out2, bf, 2, 4) == -1)
        #expect(out2 == bf.map { Float(bitPattern: UInt32($0) << 16) })
        var back = [UInt16](repeating: 0, count: 4)
        fdk_convert_f32_to_bf16(&back, out2, 4)
        #expect(back == bf)
    }

    @Test("RMSNorm matches a Double reference")
    func rmsNorm() {
        let n = 77, rows = 3
        let x = TestModel.values(n * rows, seed: 3).map { $0 * 10 }
        let w = TestModel.values(n, seed: 4)
        var out = [Float](repeating: 0, count: n * rows)
        fdk_rmsnorm(&out, Int64(n), x, Int64(n), w, Int64(rows), Int64(n), 1e-6)
        for r in 0..<rows {
            let row = x[r * n..<(r + 1) * n].map(Double.init)
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(n) + 1e-6).squareRoot()
            for i in 0..<n {
                #expect(approxEqual(out[r * n + i], Float(row[i] * inv * Double(w[i])), rel: 1e-5, abs: 1e-6))
            }
        }
    }

    @Test("SwiGLU matches silu(g)·u")
    func swiglu() {
        var g = TestModel.values(50, seed: 8).map { $0 * 20 }
        let u = TestModel.values(50, seed: 9)
        let want = zip(g, u).map { Float(Double($0) / (1 + Foundation_exp(-Double($0))) * Double($1)) }
        fdk_swiglu(&g, 50, u, 50, 1, 50)
        for i in 0..<50 { #expect(approxEqual(g[i], want[i], rel: 1e-5, abs: 1e-6)) }
    }

    @Test("the folded scorer equals (h + W_down·m)·v summed in Double, with strided rows and tails")
    func foldedScores() {
        // d and i are not multiples of the 16 lanes; rows are strided like workspace chunks.
        let rows = 5, d = 37, inter = 53, ldh = 40, ldg = 60
        let h = TestModel.values(rows * ldh, seed: 21), v = TestModel.values(d, seed: 22)
        let gate = TestModel.values(rows * ldg, seed: 23).map { $0 * 8 }, up = TestModel.values(rows * ldg, seed: 24)
        let down = TestModel.values(d * inter, seed: 25)  // [d × inter], as down_proj.weight
        let bias: Float = 0.25
        // u = W_downᵀ·v, then the kernel; the reference builds H = h + W_down·m explicitly.
        let u = (0..<inter).map { j in Float((0..<d).reduce(0.0) { $0 + Double(down[$1 * inter + j]) * Double(v[$1]) }) }
        var out = [Float](repeating: .nan, count: rows)
        fdk_folded_scores(&out, h, Int64(ldh), v, Int64(d), gate, Int64(ldg), up, Int64(ldg), u, Int64(inter),
                          bias, Int64(rows))
        for r in 0..<rows {
            let m = (0..<inter).map { c -> Double in
                let g = Double(gate[r * ldg + c])
                return g / (1 + Foundation_exp(-g)) * Double(up[r * ldg + c])
            }
            var want = Double(bias)
            for k in 0..<d {
                let hk = Double(h[r * ldh + k]) + (0..<inter).reduce(0.0) { $0 + Double(down[k * inter + $1]) * m[$1] }
                want += hk * Double(v[k])
            }
            #expect(approxEqual(out[r], Float(want), rel: 1e-5, abs: 1e-5), "row \(r): \(out[r]) vs \(want)")
        }
    }
}

#if canImport(Glibc)
import Glibc
private func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
