// DeterminismTests.swift — scores do not depend on the thread count (docs/model.md, "Determinism").

import CFastdrivePruner
import Testing
@testable import FastdrivePruner

@Suite("determinism")
struct DeterminismTests {
    @Test("scores are bit-identical for 1 to 4 threads, single frames and batches",
          arguments: [FASTDRIVE_F32, FASTDRIVE_BF16], ["mrope", "1d"])
    func independentOfThreads(compute: fastdrive_dtype, rope: String) throws {
        if compute == FASTDRIVE_BF16 {
            try #require(Kernels.bf16Supported, "this CPU lacks AVX512_BF16; bf16 compute is refused (BF16Tests)")
        }
        // D = 128: big enough that the row chunks, attention blocks and the query rows' column
        // slices all change with the thread count.
        let c = PrunerConfig.small
        let meta = c.metadata.map { ($0.key, $0.key == "rope" ? rope : $0.value) }
        let path = TestModel.file(c, metadata: meta)
        // 800 tokens: rows = 801 split into 3 or 4 row chunks (267 or 201 rows), and the query
        // rows' columns into 1...4 slices, as the thread count goes from 1 to 4.
        let (h, w): (Int32, Int32) = (20, 40)
        let n = Int(h * w), tokens = TestModel.tokens(n, dim: c.hiddenSize, seed: 5)
        var reference: [UInt32]?, referenceBatch: [UInt32]?
        for threads in 1...4 {
            var options = fastdrive_pruner_default_options()
            options.max_tokens = UInt32(2 * n + 1)
            options.num_threads = UInt32(threads)
            options.compute = compute
            var p: OpaquePointer?
            #expect(fastdrive_pruner_create(path, &options, &p) == FASTDRIVE_OK, "\(lastError(nil))")
            defer { fastdrive_pruner_destroy(p) }
            let (status, single) = score(p, tokens, n: n, dim: c.hiddenSize, grid: (h, w))
            #expect(status == FASTDRIVE_OK, "\(lastError(p))")
            var batch = [Float](repeating: .nan, count: 2 * n)
            tokens.withUnsafeBytes { raw in
                let view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(n),
                                            dim: Int64(c.hiddenSize), row_stride: 0, grid_h: h, grid_w: w)
                #expect(fastdrive_pruner_score_batch(p, [view, view], 2, &batch) == FASTDRIVE_OK, "\(lastError(p))")
            }
            let bits = single.map(\.bitPattern), batchBits = batch.map(\.bitPattern)
            if let reference, let referenceBatch {
                #expect(bits == reference, "\(threads) threads: scores differ from 1 thread's")
                #expect(batchBits == referenceBatch, "\(threads) threads: batch scores differ from 1 thread's")
            } else {
                reference = bits
                referenceBatch = batchBits
            }
        }
    }
}
