// FileBytes.swift — the bytes of a weight file however they were loaded: what the loader reads.

/// A weight file's bytes, alive as long as the object. The loader (Weights/WeightSet.swift)
/// validates and reads tensors through this and keeps it for the handle's life, because aligned
/// F32 tensors are used in place. `MappedFile` (a private read-only mapping) is the one
/// implementation today; reading the file into owned memory instead is a second conforming
/// type, chosen where `Pruner.init` opens the file.
protocol FileBytes: AnyObject, Sendable {
    var bytes: UnsafeRawBufferPointer { get }
    /// Hints that [start, start + count) will not be read again (converted or packed tensors):
    /// a mapping drops those pages; owned memory may ignore it.
    func release(_ start: UnsafeRawPointer, count: Int)
}

extension MappedFile: FileBytes {}
