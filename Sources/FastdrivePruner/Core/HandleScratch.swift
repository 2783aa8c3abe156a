// HandleScratch.swift — all of a handle's scratch, measured and then carved from one arena.

/// The forward pass's workspace and fastdrive_select's buffers, in one arena. `bytes(for:)`
/// runs the same carving against a measuring arena (ggml's measure-then-allocate), so the
/// arena is exactly as large as what is carved from it and there is no separate size list.
struct HandleScratch {
    let model: Workspace
    let selection: SelectionScratch

    /// Carves every buffer for `plan` from `arena`, writing nothing.
    init(carving arena: inout Arena, plan: ForwardPlan) throws(PrunerError) {
        model = try Workspace(carving: &arena, plan: plan)
        selection = try SelectionScratch(carving: &arena, maxTokens: plan.maxTokens, threads: plan.threads,
                                         tokens: model.x, gathered: model.xn.reshaped(rows: plan.maxRows, cols: plan.config.hiddenSize))
    }

    /// Bytes of the arena `plan` needs, or nil when its size does not fit in an Int.
    static func bytes(for plan: ForwardPlan) -> Int? {
        var measuring = Arena.measuring()
        do {
            _ = try HandleScratch(carving: &measuring, plan: plan)
        } catch {
            return nil
        }
        return measuring.used
    }
}
