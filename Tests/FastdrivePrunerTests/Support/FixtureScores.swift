// FixtureScores.swift — one fixture scored under a compute type through the C ABI, for the
// compute types' parity tests (bf16, int8), which differ only in their tolerance.

import CFastdrivePruner
import NPY
import Testing
@testable import FastdrivePruner

/// The scores of fixture `c` under `compute` (2 threads) and the reference's, or nil on a CPU
/// without the compute type, after checking that create said UNSUPPORTED and named `feature`.
func fixtureScores(_ c: FixtureCase, compute: fastdrive_dtype, supported: Bool,
                   feature: String) throws -> (got: [Float], expected: [Float])? {
    let base = TestFiles.fixtures.appendingPathComponent(c.name).path
    var options = fastdrive_pruner_default_options()
    options.max_tokens = UInt32(c.n_tokens)
    options.num_threads = 2
    options.compute = compute
    var p: OpaquePointer?
    let status = fastdrive_pruner_create(base + ".safetensors", &options, &p)
    guard supported else {
        #expect(status == FASTDRIVE_ERR_UNSUPPORTED && lastError(nil).contains(feature))
        return nil
    }
    try #require(status == FASTDRIVE_OK, "\(lastError(nil))")
    defer { fastdrive_pruner_destroy(p) }
    var info = fastdrive_pruner_info()
    info.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
    try #require(fastdrive_pruner_describe(p, &info) == FASTDRIVE_OK)
    #expect(info.compute == compute)
    let tokens = try NPYArray(path: base + ".tokens.npy"), expected = try NPYArray(path: base + ".scores.npy").floats
    var got = [Float](repeating: .nan, count: c.n_tokens)
    let s = tokens.payload.withUnsafeBytes { raw in
        var t = fastdrive_tokens(data: raw.baseAddress, dtype: tokens.descr == "<f2" ? FASTDRIVE_F16 : FASTDRIVE_F32,
                                 n_tokens: Int64(c.n_tokens), dim: Int64(c.dim), row_stride: 0,
                                 grid_h: Int32(c.grid_h), grid_w: Int32(c.grid_w))
        return fastdrive_pruner_score(p, &t, &got)
    }
    try #require(s == FASTDRIVE_OK, "\(lastError(p))")
    return (got, expected)
}
