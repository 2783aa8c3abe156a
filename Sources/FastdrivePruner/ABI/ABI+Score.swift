// ABI+Score.swift — fastdrive_pruner_score and _score_batch: C views in, TokenViews down, status out.

import CFastdrivePruner

@c @implementation
public func fastdrive_pruner_score(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                                   _ scores: UnsafeMutablePointer<Float>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let tokens else { return fail(.invalidArgument("tokens is NULL"), function: #function, handle: handle) }
    guard let scores else { return fail(.invalidArgument("scores is NULL"), function: #function, handle: handle) }
    do throws(PrunerError) {
        let view = try tokenView(tokens.pointee, name: "tokens")
        try handle.pruner.score(view, into: MatrixView(base: scores, rows: 1, cols: view.n))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}

@c @implementation
public func fastdrive_pruner_score_batch(_ p: OpaquePointer?, _ frames: UnsafePointer<fastdrive_tokens>?,
                                         _ count: Int64, _ scores: UnsafeMutablePointer<Float>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let frames else { return fail(.invalidArgument("frames is NULL"), function: #function, handle: handle) }
    guard let scores else { return fail(.invalidArgument("scores is NULL"), function: #function, handle: handle) }
    guard count >= 1, count <= Int64(FrameList.capacity) else {
        return fail(.invalidArgument("n_frames = \(count) is outside 1...\(FrameList.capacity)"), function: #function, handle: handle)
    }
    let pruner = handle.pruner
    do throws(PrunerError) {
        pruner.beginBatch()
        for f in 0..<Int(count) {
            try pruner.addFrame(try tokenView(frames[f], name: "frames[\(f)]"), index: f)
        }
        try pruner.scoreBatch(into: MatrixView(base: scores, rows: 1, cols: pruner.batchTokens))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}

/// Turns a C token view into a validated TokenView (`name` labels messages: "tokens->dim").
private func tokenView(_ t: fastdrive_tokens, name: @autoclosure () -> String) throws(PrunerError) -> TokenView {
    guard let data = t.data else { throw .invalidArgument("\(name())->data is NULL") }
    return try TokenView(base: data, dtype: Int32(bitPattern: t.dtype.rawValue), n: Int(t.n_tokens), dim: Int(t.dim),
                         rowStride: Int(t.row_stride), gridH: Int(t.grid_h), gridW: Int(t.grid_w))
}
