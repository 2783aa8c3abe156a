// BatchTests.swift — fastdrive_pruner_score_batch: each frame scores as it does alone.

import CFastdrivePruner
import Testing
@testable import FastdrivePruner

@Suite("multi-frame batch")
struct BatchTests {
    /// Three frames of different sizes and grids (15×17, 1×9, 6×6).
    static let grids: [(Int32, Int32)] = [(15, 17), (1, 9), (6, 6)]

    func frames(_ buffers: [[Float]], _ body: ([fastdrive_tokens]) -> Void) {
        var views: [fastdrive_tokens] = []
        func nest(_ i: Int) {
            if i == buffers.count { body(views); return }
            buffers[i].withUnsafeBytes { raw in
                let (h, w) = Self.grids[i]
                views.append(fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(h * w), dim: 32,
                                              row_stride: 0, grid_h: h, grid_w: w))
                nest(i + 1)
            }
        }
        nest(0)
    }

    @Test("every rope/attention mode: batch scores equal single-frame scores", arguments: ["none", "1d", "mrope"], ["bidirectional", "causal"])
    func matchesSingleFrames(rope: String, attention: String) {
        let meta = TestModel.config.metadata.map { ($0.key, $0.key == "rope" ? rope : $0.key == "attention" ? attention : $0.value) }
        let (p, status, message) = create(TestModel.file(metadata: meta), maxTokens: 310, threads: 2)
        #expect(status == FASTDRIVE_OK, "\(message)")
        defer { fastdrive_pruner_destroy(p) }
        let buffers = Self.grids.enumerated().map { i, g in TestModel.tokens(Int(g.0 * g.1), seed: UInt64(40 + i)) }
        var single: [Float] = []
        for (i, g) in Self.grids.enumerated() {
            let (s, out) = score(p, buffers[i], n: Int(g.0 * g.1), dim: 32, grid: g)
            #expect(s == FASTDRIVE_OK)
            single += out
        }
        var batch = [Float](repeating: .nan, count: single.count)
        frames(buffers) { views in
            #expect(fastdrive_pruner_score_batch(p, views, Int64(views.count), &batch) == FASTDRIVE_OK, "\(lastError(p))")
        }
        let scale = max(1, single.map(abs).max()!)
        #expect(maxAbsDiff(batch, single).value <= 1e-5 * scale)
    }

    @Test("capacity counts every frame's tokens and query row; bad frames are named")
    func capacityAndErrors() {
        let (p, _, _) = create(TestModel.file(), maxTokens: 255 + 9 + 36 + 1, threads: 1)
        defer { fastdrive_pruner_destroy(p) }
        let buffers = Self.grids.enumerated().map { i, g in TestModel.tokens(Int(g.0 * g.1), seed: UInt64(i)) }
        var out = [Float](repeating: 42, count: 300)
        frames(buffers) { views in
            #expect(fastdrive_pruner_score_batch(p, views, 3, &out) == FASTDRIVE_ERR_CAPACITY)
            #expect(lastError(p).contains("frames 0...2"))
            #expect(fastdrive_pruner_score_batch(p, views, 2, &out) == FASTDRIVE_OK)
            #expect(fastdrive_pruner_score_batch(p, views, 0, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(fastdrive_pruner_score_batch(p, views, 65, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(fastdrive_pruner_score_batch(p, nil, 1, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            var bad = views
            bad[1].dim = 16
            out = [Float](repeating: 42, count: 300)
            #expect(fastdrive_pruner_score_batch(p, bad, 2, &out) == FASTDRIVE_ERR_SHAPE)
            #expect(out.allSatisfy { $0 == 42 })
        }
    }
}
