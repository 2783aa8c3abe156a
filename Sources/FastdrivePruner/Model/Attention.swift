// Attention.swift — blocked grouped-query attention with online softmax (flash-attention style).
//
// Scratch is O(query block × key block) per worker instead of heads × N² for the whole frame
// (~675 MB at N = 3249): logits for one key block exist at a time, and a running max/sum
// rescales the partial output as later blocks arrive.

/// Phase 2. One task: every query head of one KV head, for one block of query rows.
struct AttentionPhase {
    let config: PrunerConfig
    let workspace: Workspace
    let queryBlock: Int
    let keyBlock: Int

    init(config: PrunerConfig, workspace: Workspace, plan: ForwardPlan) {
        self.config = config
        self.workspace = workspace
        queryBlock = plan.queryBlock
        keyBlock = plan.keyBlock
    }

    /// Query blocks of a frame of `rows` rows (tasks per KV head).
    func blocks(rows: Int) -> Int { (rows + queryBlock - 1) / queryBlock }

    /// Tasks of one frame of `rows` rows: KV heads × query blocks.
    func tasks(rows: Int) -> Int { config.kvHeads * blocks(rows: rows) }

    /// softmax(q kᵀ/√hd + mask) v for one (frame, KV head, query block) into the attention
    /// output (rows × heads·hd), reading q/k/v of that frame's rows only.
    func run(task: Int, worker: Int, _ pass: PassContext) {
        let fr = pass.frames.frame(forTask: task)
        let c = config, hd = c.headDim, group = c.heads / c.kvHeads, rows = fr.rows
        let s = workspace.workers[worker], out = workspace.attention.rows(fr.start, rows)
        let q = workspace.q.readOnly.rows(fr.start, rows), k = workspace.k.readOnly.rows(fr.start, rows)
        let v = workspace.v.readOnly.rows(fr.start, rows)
        let blocks = blocks(rows: rows), local = task - fr.firstTask
        let kvHead = local / blocks
        let q0 = (local % blocks) * queryBlock
        let bq = min(queryBlock, rows - q0)
        let stacked = group * bq
        let causal = c.attention == .causal

        // Stack the group's heads: slot g holds head kvHead·group + g for rows q0 ..< q0+bq.
        let qs = s.stackedQ.reshaped(rows: stacked, cols: hd)
        for g in 0..<group {
            let head = kvHead * group + g
            Kernels.copy(out: qs.rows(g * bq, bq), q.rows(q0, bq).columns(head * hd, hd))
        }
        let o = s.output.reshaped(rows: stacked, cols: hd)
        let rowMax = s.rowMax.columns(0, stacked), rowSum = s.rowSum.columns(0, stacked)
        Kernels.fill(o, value: 0)
        Kernels.fill(rowMax, value: -.infinity)
        Kernels.fill(rowSum, value: 0)

        let keys = k.columns(kvHead * hd, hd), values = v.columns(kvHead * hd, hd)
        let keyEnd = causal ? q0 + bq : rows  // causal rows never see later keys
        let scale = 1 / Float(hd).squareRoot()
        let bf16 = s.bf16Attention
        if let bf16 { Kernels.packRowsBF16(qs.readOnly, scale: scale, into: bf16.query) }
        var k0 = 0
        while k0 < keyEnd {
            if k0 > 0 && pass.shouldStop() { return }  // the output is abandoned with the call
            let bk = min(keyBlock, keyEnd - k0)
            let logits = s.logits.reshaped(rows: stacked, cols: bk)
            if let bf16 {
                let packedKeys = Kernels.packBF16(keys.rows(k0, bk), into: bf16.keys)
                Kernels.gemmBF16(out: logits, packed: bf16.query, weight: packedKeys, accumulate: false)
            } else {
                Kernels.matmulTransposed(out: logits, qs.readOnly, keys.rows(k0, bk), alpha: scale)
            }
            for g in 0..<group where !pass.gemmsOnly {
                Kernels.softmaxStep(logits.rows(g * bq, bq), q0: q0, k0: k0, causal: causal,
                                    rowMax: rowMax.columns(g * bq, bq), rowSum: rowSum.columns(g * bq, bq),
                                    output: o.rows(g * bq, bq))
            }
            if let bf16 {
                Kernels.packRowsBF16(logits.readOnly, into: bf16.probabilities)
                let packedValues = Kernels.packBF16Transposed(values.rows(k0, bk), into: bf16.values)
                Kernels.gemmBF16(out: o, packed: bf16.probabilities, weight: packedValues, accumulate: true)
            } else {
                Kernels.matmulAccumulate(out: o, logits.readOnly, values.rows(k0, bk))
            }
            k0 += bk
        }
        Kernels.divideRows(o, by: rowSum.readOnly)
        for g in 0..<group {
            let head = kvHead * group + g
            Kernels.copy(out: out.rows(q0, bq).columns(head * hd, hd), o.rows(g * bq, bq).readOnly)
        }
    }
}
