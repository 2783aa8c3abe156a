// CAPI.swift — small conveniences for calling the C ABI from tests.

import CFastdrivePruner

/// Creates a handle or returns the status and message of the failure.
func create(_ path: String, maxTokens: UInt32 = 0, threads: UInt32 = 1) -> (OpaquePointer?, fastdrive_status, String) {
    var options = fastdrive_pruner_default_options()
    options.max_tokens = maxTokens
    options.num_threads = threads
    var p: OpaquePointer?
    let status = fastdrive_pruner_create(path, &options, &p)
    return (p, status, String(cString: fastdrive_pruner_last_error(nil)))
}

/// Scores f32 tokens [n × dim] (row stride = dim) through the C ABI.
func score(_ p: OpaquePointer?, _ tokens: [Float], n: Int, dim: Int, grid: (Int32, Int32) = (0, 0),
           dtype: fastdrive_dtype = FASTDRIVE_F32) -> (fastdrive_status, [Float]) {
    var out = [Float](repeating: .nan, count: n)
    let status = tokens.withUnsafeBytes { raw in
        var view = fastdrive_tokens(data: raw.baseAddress, dtype: dtype, n_tokens: Int64(n), dim: Int64(dim),
                                    row_stride: 0, grid_h: grid.0, grid_w: grid.1)
        return fastdrive_pruner_score(p, &view, &out)
    }
    return (status, out)
}

func lastError(_ p: OpaquePointer?) -> String { String(cString: fastdrive_pruner_last_error(p)) }
