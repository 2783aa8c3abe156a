// ABI+TopK.swift — fastdrive_pruner_topk and fastdrive_keep_count.

import CFastdrivePruner

@c @implementation
public func fastdrive_pruner_topk(_ p: OpaquePointer?, _ scores: UnsafePointer<Float>?, _ n: Int64, _ k: Int64,
                                  _ indices: UnsafeMutablePointer<Int64>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let scores else { return fail(.invalidArgument("scores is NULL"), function: #function, handle: handle) }
    guard let indices else { return fail(.invalidArgument("indices is NULL"), function: #function, handle: handle) }
    guard n >= 1 else {
        return fail(.invalidArgument("n = \(n); need at least 1 score"), function: #function, handle: handle)
    }
    let maxTokens = handle.pruner.options.maxTokens
    guard n <= Int64(maxTokens) else {
        return fail(.capacity("n = \(n) scores but the handle was created with max_tokens = \(maxTokens)"),
                    function: #function, handle: handle)
    }
    guard k >= 1, k <= n else {
        return fail(.invalidArgument("k = \(k) is outside 1...n (n = \(n))"), function: #function, handle: handle)
    }
    do throws(PrunerError) {
        // `indices` may overlap `scores`: Pruner.topK ranks a copy staged in the arena.
        try handle.pruner.topK(VectorView(base: scores, count: Int(n)), k: Int(k),
                               into: IndexBuffer(base: indices, count: Int(k)))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}

@c @implementation
public func fastdrive_keep_count(_ n: Int64, _ ratio: Double, _ outK: UnsafeMutablePointer<Int64>?) -> fastdrive_status {
    guard let outK else { return fail(.invalidArgument("out_k is NULL"), function: #function) }
    guard n >= 1 else { return fail(.invalidArgument("n = \(n); need at least 1 token"), function: #function) }
    guard ratio > 0, ratio <= 1 else {
        return fail(.invalidArgument("ratio = \(ratio) is outside (0, 1]"), function: #function)
    }
    // ratio * n <= Double(n), which rounds up to 2^63 for n near Int64.max: compare before
    // converting, so Int64(_:) never sees a value it would trap on.
    let k = (ratio * Double(n)).rounded(.down)
    outK.pointee = k >= Double(n) ? n : max(Int64(k), 1)
    return FASTDRIVE_OK
}
