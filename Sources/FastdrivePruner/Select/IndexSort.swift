// IndexSort.swift — in-place heap sort of an index list and the ascending output of a marked set.

/// Allocation-free helpers shared by the policies (closure literals passed straight to a
/// non-escaping parameter live on the stack).
enum IndexSort {
    /// Sorts list[0 ..< count] so that `before(list[i], list[i+1])` or neither is before the
    /// other; `before` must be a strict total order for the result to be unique. O(count log count).
    static func sort(_ list: IndexBuffer, count: Int, by before: (Int, Int) -> Bool) {
        guard count > 1 else { return }
        // Max-heap on `before` (root = the element that comes last), then pop to the end.
        for i in stride(from: count / 2 - 1, through: 0, by: -1) {
            siftDown(list, from: i, count: count, before)
        }
        for end in stride(from: count - 1, to: 0, by: -1) {
            list.swapAt(0, end)
            siftDown(list, from: 0, count: end, before)
        }
    }

    /// Restores the max-heap on `before` below `root` in list[0 ..< count] (root = the element
    /// that comes last).
    @inline(__always)
    static func siftDown(_ list: IndexBuffer, from root: Int, count: Int, _ before: (Int, Int) -> Bool) {
        var parent = root
        while true {
            var last = parent
            let left = 2 * parent + 1, right = left + 1
            if left < count && before(list[last], list[left]) { last = left }
            if right < count && before(list[last], list[right]) { last = right }
            if last == parent { return }
            list.swapAt(parent, last)
            parent = last
        }
    }

    /// Writes every i < n with flags[i] == mark into out, ascending; returns how many.
    @discardableResult
    static func emitMarked(_ flags: ScratchVector, n: Int, mark: Float, into out: IndexBuffer) -> Int {
        var w = 0
        for i in 0..<n where flags[i] == mark {
            out[w] = i
            w += 1
        }
        return w
    }
}
