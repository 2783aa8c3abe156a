// Arena.swift — the handle's one scratch allocation, and the measuring arena that sizes it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-capacity bump allocator (ggml_tallocr, llm.c's malloc_and_point), in two modes that
/// hand out the same offsets (ggml's measure-then-allocate):
/// - `Arena.measuring()` owns no memory and only counts: carving a plan against it gives the
///   plan's exact size, and the views it returns must not be read or written.
/// - `Arena(bytes:)` makes one 64-byte-aligned allocation at create and carves it.
/// Every buffer is carved once at create; scoring only uses the views, so the hot path never
/// allocates. Not copyable: exactly one owner frees the block.
struct Arena: ~Copyable {
    static let alignment = 64

    /// Bytes carved so far (each request rounded up to the alignment).
    private(set) var used = 0
    let capacity: Int
    /// nil while measuring.
    private let block: UnsafeMutableRawPointer?

    /// An arena that allocates nothing and accepts any plan whose size fits in an Int.
    static func measuring() -> Arena { Arena(measuringOnly: ()) }

    private init(measuringOnly: Void) {
        block = nil
        capacity = .max
    }

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

    deinit { if let block { free(block) } }

    /// The next `count` floats, 64-byte aligned.
    mutating func floats(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<Float> {
        try bytes(count, of: Float.self).bindMemory(to: Float.self, capacity: count)
    }

    /// The next `count` int64s, 64-byte aligned.
    mutating func int64s(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<Int64> {
        try bytes(count, of: Int64.self).bindMemory(to: Int64.self, capacity: count)
    }

    /// The next `count` uint16s (bf16 values), 64-byte aligned.
    mutating func uint16s(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<UInt16> {
        try bytes(count, of: UInt16.self).bindMemory(to: UInt16.self, capacity: count)
    }

    /// The next `count` bytes (int8-quantized rows), 64-byte aligned.
    mutating func uint8s(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<UInt8> {
        try bytes(count, of: UInt8.self).bindMemory(to: UInt8.self, capacity: count)
    }

    /// The next `count` int32s (zero points), 64-byte aligned.
    mutating func int32s(_ count: Int) throws(PrunerError) -> UnsafeMutablePointer<Int32> {
        try bytes(count, of: Int32.self).bindMemory(to: Int32.self, capacity: count)
    }

    /// Bytes for `count` elements of `type`. Sizes come from the caller's config and options, so
    /// the arithmetic is checked: a plan that overflows fails to measure. Exceeding the capacity
    /// of a real arena means the measured carving and the real one differ, an internal failure.
    private mutating func bytes<T>(_ count: Int, of type: T.Type) throws(PrunerError) -> UnsafeMutableRawPointer {
        let (size, o1) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        let (padded, o2) = size.addingReportingOverflow(Self.alignment - 1)
        let (end, o3) = used.addingReportingOverflow(padded / Self.alignment * Self.alignment)
        guard count >= 0, !(o1 || o2 || o3) else { throw .outOfMemory("scratch plan overflows") }
        guard end <= capacity else {
            throw .internalFailure("arena plan too small: need \(end) of \(capacity) bytes")
        }
        defer { used = end }
        // Measuring: one fake, aligned, never dereferenced address for every view.
        guard let block else { return UnsafeMutableRawPointer(bitPattern: Self.alignment)! }
        return block + used
    }

    /// Bytes a `floats(count)` call consumes, for sizing blocks outside an arena.
    static func footprint(floats count: Int) -> Int {
        (count * MemoryLayout<Float>.stride + alignment - 1) / alignment * alignment
    }
}
