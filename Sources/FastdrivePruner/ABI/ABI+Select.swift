// ABI+Select.swift — fastdrive_select: params read by struct_size, request validated, policy run.

import CFastdrivePruner

/// sizeof(fastdrive_select_params) in 1.0: the smallest struct_size accepted.
private let selectParamsV1Size = 48

@c @implementation
public func fastdrive_select(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                             _ params: UnsafePointer<fastdrive_select_params>?,
                             _ indices: UnsafeMutablePointer<Int64>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let tokens else { return fail(.invalidArgument("tokens is NULL"), function: #function, handle: handle) }
    guard let params else { return fail(.invalidArgument("params is NULL"), function: #function, handle: handle) }
    guard let indices else { return fail(.invalidArgument("indices is NULL"), function: #function, handle: handle) }
    // Read only the bytes the caller declared (docs/abi.md, growing the ABI); later fields stay zero = default.
    let declared = Int(params.pointee.struct_size)
    guard declared >= selectParamsV1Size else {
        return fail(.invalidArgument("params->struct_size = \(declared) is smaller than the 1.0 size \(selectParamsV1Size) (set it to sizeof(fastdrive_select_params))"),
                    function: #function, handle: handle)
    }
    var q = fastdrive_select_params()
    withUnsafeMutableBytes(of: &q) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(params),
                                                    count: min(declared, MemoryLayout<fastdrive_select_params>.size)))
    }
    let t = tokens.pointee
    guard let data = t.data else { return fail(.invalidArgument("tokens->data is NULL"), function: #function, handle: handle) }
    do throws(PrunerError) {
        let view = try TokenView(base: data, dtype: Int32(bitPattern: t.dtype.rawValue), n: Int(t.n_tokens),
                                 dim: Int(t.dim), rowStride: Int(t.row_stride), gridH: Int(t.grid_h), gridW: Int(t.grid_w))
        let request = try SelectionRequest(policy: q.policy.rawValue, k: q.k, aux: q.aux, auxCount: q.aux_count,
                                           importantRatio: q.important_ratio, seed: q.seed, n: view.n)
        try handle.pruner.select(view, request, into: IndexBuffer(base: indices, count: request.k))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}
