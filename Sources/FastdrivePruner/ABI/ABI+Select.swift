// ABI+Select.swift — fastdrive_select: params read by struct_size, request validated, policy run.

import CFastdrivePruner

@c @implementation
public func fastdrive_select(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                             _ params: UnsafePointer<fastdrive_select_params>?,
                             _ indices: UnsafeMutablePointer<Int64>?) -> fastdrive_status {
    selectTokens(p, tokens, params, indices, function: #function)
}

/// The 1.1 name of fastdrive_select, under the handle's prefix; its messages carry this name.
@c @implementation
public func fastdrive_pruner_select(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                                    _ params: UnsafePointer<fastdrive_select_params>?,
                                    _ indices: UnsafeMutablePointer<Int64>?) -> fastdrive_status {
    selectTokens(p, tokens, params, indices, function: #function)
}

private func selectTokens(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                          _ params: UnsafePointer<fastdrive_select_params>?,
                          _ indices: UnsafeMutablePointer<Int64>?, function: StaticString) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: function)
    }
    guard let tokens else { return fail(.invalidArgument("tokens is NULL"), function: function, handle: handle) }
    guard let params else { return fail(.invalidArgument("params is NULL"), function: function, handle: handle) }
    guard let indices else { return fail(.invalidArgument("indices is NULL"), function: function, handle: handle) }
    guard ProcessExit.enter() else { return fail(ProcessExit.refusal, function: function, handle: handle) }
    defer { ProcessExit.leave() }
    do throws(PrunerError) {
        let q = try fastdrive_select_params.read(params, name: "params")
        let view = try TokenView(tokens.pointee, name: "tokens")
        var pivotRows: TokenView?
        if let rows = q.pivot_rows, q.policy == FASTDRIVE_POLICY_DART {
            pivotRows = try TokenView(rows.pointee, name: "params->pivot_rows")
        }
        let request = try SelectionRequest(policy: q.policy.rawValue, k: q.k, aux: q.aux, auxCount: q.aux_count,
                                           importantRatio: q.important_ratio, seed: q.seed,
                                           imagePivots: q.image_pivots, textPivots: q.text_pivots,
                                           pivotRows: pivotRows, relevanceTheta: q.relevance_theta, n: view.n)
        try handle.pruner.select(view, request, into: IndexBuffer(base: indices, count: request.k))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: function, handle: handle)
    }
}
