// FrameList.swift — the frames of one call, stacked row-wise in the residual stream.

/// Frame f occupies rows [start, start + rows) of the workspace: its copy of the query token at
/// `start`, then its tokens. Projections and the MLP run over all stacked rows at once (bigger
/// GEMMs); attention, RoPE positions and the scorer stay within each frame.
/// Storage is reserved at create, so re-filling it per call allocates nothing.
final class FrameList {
    /// Frames one call may stack (the six cameras of a nuScenes rig fit many times over).
    static let capacity = 64

    struct Frame {
        /// First row (the query token) and row count (tokens + 1).
        var start: Int
        var rows: Int
        /// Grid width for mrope positions (1 when there is no grid).
        var gridW: Int
        /// Offset of this frame's scores in the caller's output.
        var scoreOffset: Int
        /// First attention task of this frame.
        var firstTask: Int
    }

    private(set) var frames: [Frame] = []
    /// Rows used so far (the next frame starts here).
    private(set) var rows = 0
    private(set) var tokens = 0
    /// Attention tasks of all frames.
    private(set) var attentionTasks = 0

    init() { frames.reserveCapacity(Self.capacity) }

    var count: Int { frames.count }
    subscript(i: Int) -> Frame { frames[i] }

    func removeAll() {
        frames.removeAll(keepingCapacity: true)
        rows = 0
        tokens = 0
        attentionTasks = 0
    }

    /// Appends a frame of `tokens` tokens with its number of attention tasks; the caller
    /// checked capacity and count.
    func append(tokens n: Int, gridW: Int, attentionTasks tasks: Int) {
        frames.append(Frame(start: rows, rows: n + 1, gridW: max(gridW, 1), scoreOffset: tokens,
                            firstTask: attentionTasks))
        rows += n + 1
        tokens += n
        attentionTasks += tasks
    }

    /// The frame whose attention tasks include `task` (frames are few: a linear scan).
    func frame(forTask task: Int) -> Frame {
        var i = frames.count - 1
        while i > 0 && frames[i].firstTask > task { i -= 1 }
        return frames[i]
    }
}
