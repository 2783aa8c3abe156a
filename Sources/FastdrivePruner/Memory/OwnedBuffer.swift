// OwnedBuffer.swift — a 64-byte-aligned block of floats with one owner (converted weights).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory the weight set owns (converted tensors), freed with it.
final class OwnedBuffer: @unchecked Sendable {
    let floats: UnsafeMutablePointer<Float>
    let count: Int

    init(floats count: Int, host: ControlGroup = .host) throws(PrunerError) {
        // Converted weights are written right away, so every page becomes resident: refuse
        // more than the host can give up front (a sparse hostile file can declare terabytes).
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw .outOfMemory("converted weights need over 2^63 bytes") }
        try SystemMemory.require(bytes, for: "converting weights", in: host)
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, Arena.alignment, count * 4) == 0, let p else {
            throw .outOfMemory("cannot allocate \(count * 4) bytes for converted weights")
        }
        self.floats = p.bindMemory(to: Float.self, capacity: count)
        self.count = count
    }

    deinit { free(floats) }
}
