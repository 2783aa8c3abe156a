// ABI+Score.swift — fastdrive_pruner_score: C view in, validated TokenView down, status out.

import CFastdrivePruner

@c @implementation
public func fastdrive_pruner_score(_ p: OpaquePointer?, _ tokens: UnsafePointer<fastdrive_tokens>?,
                                   _ scores: UnsafeMutablePointer<Float>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let tokens else { return fail(.invalidArgument("tokens is NULL"), function: #function, handle: handle) }
    guard let scores else { return fail(.invalidArgument("scores is NULL"), function: #function, handle: handle) }
    let t = tokens.pointee
    guard let data = t.data else { return fail(.invalidArgument("tokens->data is NULL"), function: #function, handle: handle) }
    do throws(PrunerError) {
        let view = try TokenView(base: data, dtype: Int32(bitPattern: t.dtype.rawValue), n: Int(t.n_tokens),
                                 dim: Int(t.dim), stride: Int(t.row_stride), gridH: Int(t.grid_h), gridW: Int(t.grid_w))
        let out = MatrixView(base: scores, rows: 1, cols: view.n)
        try handle.pruner.score(view, into: out)
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function, handle: handle)
    }
}
