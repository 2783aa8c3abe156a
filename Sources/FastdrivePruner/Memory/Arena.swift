// Arena.swift — the handle's one scratch allocation: 64-byte aligned, carved up once at create.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-capacity bump allocator (ggml_tallocr, llm.c's malloc_and_point). Every buffer is
/// carved out at create from the plan in `ArenaLayout`; scoring only uses the views, so the hot
/// path never allocates. Not copyable: exactly one owner frees the block.
struct Arena: ~Copyable {
    static let alignment = 64

    let capacity: Int
    private let block: UnsafeMutableRawPointer
    private var used = 0

    /// One aligned allocation of `bytes` (rounded up to the alignment). Pages are left
    /// untouched, so memory the frames never reach is never resident.
    init(bytes: Int) throws(PrunerError) {
        let rounded = (bytes + Self.alignment - 1) / Self.alignment * Self.alignment
        var p: UnsafeMutableRawPointer?
        guard rounded > 0, posix_memalign(&p, Self.alignment, rounded) == 0, let p else {
            throw .outOfMemory("cannot allocate a \(rounded)-byte scratch arena")
        }
        block = p
        capacity = rounded
    }

    deinit { free(block) }

    /// The next `count` floats, 64-byte aligned. Exceeding the plan is a programming error in
    /// ArenaLayout, reported as an internal failure rather than a trap.
    mutating func floats(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<Float> {
        let bytes = (count * MemoryLayout<Float>.stride + Self.alignment - 1) / Self.alignment * Self.alignment
        guard used + bytes <= capacity else {
            throw .internalFailure("arena plan too small: need \(used + bytes) of \(capacity) bytes")
        }
        let p = (block + used).bindMemory(to: Float.self, capacity: count)
        used += bytes
        return p
    }

    /// The machine's physical memory: plans larger than this are refused up front, since an
    /// overcommitting kernel would accept them and the OOM killer end the host later.
    static var physicalMemoryBytes: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Bytes a `floats(count)` call consumes, for planning.
    static func footprint(floats count: Int) -> Int {
        (count * MemoryLayout<Float>.stride + alignment - 1) / alignment * alignment
    }
}
