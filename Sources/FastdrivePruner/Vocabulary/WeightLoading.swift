// WeightLoading.swift — how create reads the weight file (fastdrive_load).

/// FASTDRIVE_LOAD_*: a private mapping used in place, or one read into owned memory.
package enum WeightLoading: Int32, Sendable {
    /// Map the file read-only; aligned F32 tensors are used where they lie.
    case mmap = 0
    /// Read the whole file into memory the handle owns; the file is not touched after create.
    case read = 1
}
