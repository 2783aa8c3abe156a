// MappedFile.swift — a read-only, private memory mapping of a weight file (open/fstat/mmap).
//
// The mapping is MAP_PRIVATE and outlives the file descriptor: a file replaced on disk by
// rename keeps the old inode mapped. Truncating the file in place while a handle is open is
// not survivable for any mmap reader (SIGBUS), which the header documents.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a file, mapped read-only; unmapped on deinit.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    init(path: String) throws(PrunerError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io("cannot open '\(path)': \(Self.describeErrno())")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io("cannot stat '\(path)': \(Self.describeErrno())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io("'\(path)' is not a regular file") }
        let length = Int(st.st_size)
        if length == 0 {
            // mmap of 0 bytes fails; an empty file is a format error (rule header-too-small), not an I/O one.
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw .io("cannot map '\(path)' (\(length) bytes): \(Self.describeErrno())")
        }
        mapping = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }

    /// Drops the resident pages wholly inside [start, start + count) from this process: the
    /// mapping stays valid, and a later read faults the bytes back in from the file. For f32
    /// weights that compute = bf16 has packed and will not read again.
    func release(_ start: UnsafeRawPointer, count: Int) {
        guard let mapping, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (Int(bitPattern: start) + page - 1) / page * page
        let hi = (Int(bitPattern: start) + count) / page * page
        let base = Int(bitPattern: mapping)
        guard hi > lo, lo >= base, hi <= base + bytes.count else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED)
    }

    static func describeErrno() -> String {
        String(cString: strerror(errno))
    }
}
