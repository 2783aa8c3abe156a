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
    guard ProcessExit.enter() else { return fail(ProcessExit.refusal, function: #function, handle: handle) }
    defer { ProcessExit.leave() }
    do throws(PrunerError) {
        let view = try TokenView(tokens.pointee, name: "tokens")
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
    guard ProcessExit.enter() else { return fail(ProcessExit.refusal, function: #function, handle: handle) }
    defer { ProcessExit.leave() }
    do throws(PrunerError) {
        try pruner.beginBatch()
        for f in 0..<Int(count) {
            do {
                try pruner.addFrame(try TokenView(frames[f], name: "frames[\(f)]"), index: f)
            } catch {
                // Every per-frame check (data, dtype, stride, dim, capacity, grid, values) names
                // the frame: the host has up to 64 of them to look through.
                throw error.renamingTokens("frames[\(f)]")
            }
        }
        try pruner.scoreBatch(into: MatrixView(base: scores, rows: 1, cols: pruner.batchTokens))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}
