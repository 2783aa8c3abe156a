// Projections.swift — the pre-attention half of the layer for one chunk of rows.

/// For rows [r0, r0+n): xn = rms1(x); q/k/v = xn·Wᵀ + b; RoPE on q and k.
struct ProjectionChunk {
    let weights: WeightSet
    let config: PrunerConfig
    let gemmOnly: Bool

    func run(rows r0: Int, count n: Int, x: MatrixView, normed: MatrixView, q: MatrixView, k: MatrixView,
             v: MatrixView, rope: RoPEPositions) {
        let xn = normed.rows(r0, n).columns(0, config.hiddenSize)
        if !gemmOnly {
            Kernels.rmsNorm(out: xn, x.rows(r0, n).readOnly, weight: weights.inputNorm, eps: Float(config.rmsNormEps))
        }
        // y = xn·Wᵀ + b: the bias is pre-loaded and the GEMM accumulates onto it.
        func project(_ out: MatrixView, _ w: ConstMatrixView, _ b: VectorView) {
            if !gemmOnly { Kernels.broadcastRows(out: out.rows(r0, n), b) }
            Kernels.linear(out: out.rows(r0, n), xn.readOnly, weight: w, accumulate: true)
        }
        project(q, weights.qProj, weights.qBias)
        project(k, weights.kProj, weights.kBias)
        project(v, weights.vProj, weights.vBias)
        if gemmOnly { return }
        rope.apply(q.rows(r0, n), row0: r0, heads: config.heads)
        rope.apply(k.rows(r0, n), row0: r0, heads: config.kvHeads)
    }
}

/// Where each row sits for RoPE in this call (SPEC §1): the mode, the grid, the angle tables.
struct RoPEPositions {
    let mode: RoPEMode
    let gridW: Int
    let headDim: Int
    let sections: (Int, Int)
    let cosTable: ConstMatrixView
    let sinTable: ConstMatrixView

    func apply(_ x: MatrixView, row0: Int, heads: Int) {
        Kernels.rope(x, row0: row0, heads: heads, headDim: headDim, cosTable: cosTable, sinTable: sinTable,
                     mode: mode, gridW: gridW, sections: sections)
    }
}
