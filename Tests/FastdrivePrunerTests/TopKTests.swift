// TopKTests.swift — top-K against sorting: ties, infinities, NaN, every k.

import CFastdrivePruner
import Testing
@testable import FastdrivePruner

@Suite("top-K")
struct TopKTests {
    func select(_ s: [Float], _ k: Int) -> [Int] {
        var out = [Int64](repeating: -1, count: k)
        s.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { op in
                TopK.select(VectorView(base: sp.baseAddress!, count: s.count), k: k,
                            into: IndexBuffer(base: op.baseAddress!, count: k))
            }
        }
        return out.map(Int.init)
    }

    @Test("matches sorting for every k on random scores")
    func randomScores() {
        let s = TestModel.values(97, seed: 5)
        for k in 1...97 { #expect(select(s, k) == referenceTopK(s, k), "k = \(k)") }
    }

    @Test("ties go to the lower index")
    func ties() {
        let s: [Float] = [1, 3, 3, 2, 3, 0, 3]
        #expect(select(s, 2) == [1, 2])
        #expect(select(s, 3) == [1, 2, 4])
        #expect(select([Float](repeating: 0, count: 10), 4) == [0, 1, 2, 3])
        #expect(select([0, -0.0, 0], 2) == [0, 1])
    }

    @Test("infinities rank as numbers")
    func infinities() {
        let s: [Float] = [.infinity, -.infinity, 0, .infinity, -1]
        #expect(select(s, 3) == [0, 2, 3])
        #expect(select(s, 5) == [0, 1, 2, 3, 4])
    }

    @Test("the paper's keep counts for 3249 tokens")
    func keepCounts() {
        for (ratio, expected) in [(0.75, Int64(2436)), (0.5, 1624), (0.25, 812), (1.0, 3249), (1e-9, 1)] {
            var k: Int64 = 0
            #expect(fastdrive_keep_count(3249, ratio, &k) == FASTDRIVE_OK)
            #expect(k == expected, "ratio \(ratio)")
        }
        var k: Int64 = 7
        for bad in [0.0, -0.5, 1.5, .nan, .infinity] {
            #expect(fastdrive_keep_count(10, bad, &k) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        }
        #expect(fastdrive_keep_count(0, 0.5, &k) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_keep_count(10, 0.5, nil) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(k == 7)
    }

    @Test("through the ABI: NaN is rejected, k and n are range-checked, nothing written on error")
    func abi() {
        let (p, _, _) = create(TestModel.file(), maxTokens: 8)
        defer { fastdrive_pruner_destroy(p) }
        var out = [Int64](repeating: -7, count: 9)
        let s: [Float] = [0.5, .nan, 1, 2, 3, 4, 5, 6]
        #expect(fastdrive_pruner_topk(p, s, 8, 2, &out) == FASTDRIVE_ERR_NON_FINITE)
        #expect(lastError(p).contains("scores[1] is NaN"))
        let good: [Float] = [0.5, 7, 1, 2, 3, 4, 5, 6]
        #expect(fastdrive_pruner_topk(p, good, 8, 0, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_topk(p, good, 8, 9, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_topk(p, good, 0, 1, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_topk(p, good, -3, 1, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_topk(p, good + [1], 9, 2, &out) == FASTDRIVE_ERR_CAPACITY)
        #expect(out.allSatisfy { $0 == -7 })
        #expect(fastdrive_pruner_topk(p, good, 8, 3, &out) == FASTDRIVE_OK)
        #expect(Array(out.prefix(3)) == [1, 6, 7])
    }
}
