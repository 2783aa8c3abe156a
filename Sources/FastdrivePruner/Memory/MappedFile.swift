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

    /// Opens, checks and maps the file at `path` (its bytes as given: see RawPath).
    ///
    /// Never blocks: the type is checked with stat() before open, and open itself is
    /// non-blocking, so a FIFO without a writer (whose plain open would wait for one for ever),
    /// a terminal or a device is refused as "not a regular file" even if the path is swapped
    /// between the two checks. O_NOCTTY: opening a terminal must not make it ours.
    init(path: RawPath) throws(PrunerError) {
        let (fd, length) = try Self.openRegular(path)
        defer { close(fd) }
        if length == 0 {
            // mmap of 0 bytes fails; an empty file is a format error (rule header-too-small), not an I/O one.
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            let reason = Self.describeErrno()
            throw .io("cannot map '\(path)' (\(length) bytes): \(reason)")
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

    /// The path as UTF-8 text (tools and tests).
    convenience init(path: String) throws(PrunerError) {
        try self.init(path: RawPath(path))
    }

    /// Opens `path` read-only after checking it is a regular file, without blocking (see
    /// `init`); returns the descriptor, which the caller closes, and the file's length.
    static func openRegular(_ path: RawPath) throws(PrunerError) -> (fd: Int32, length: Int) {
        var st = stat()
        guard path.withCString({ stat($0, &st) }) == 0 else {
            let reason = Self.describeErrno()
            throw .io("cannot open '\(path)': \(reason)")
        }
        try Self.requireRegular(st, path)
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard fd >= 0 else {
            let reason = Self.describeErrno()
            throw .io("cannot open '\(path)': \(reason)")
        }
        guard fstat(fd, &st) == 0 else {
            let reason = Self.describeErrno()
            close(fd)
            throw .io("cannot stat '\(path)': \(reason)")
        }
        do { try Self.requireRegular(st, path) } catch { close(fd); throw error }
        return (fd, Int(st.st_size))
    }

    private static func requireRegular(_ st: stat, _ path: RawPath) throws(PrunerError) {
        let kind: String
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw .io("'\(path)' is \(kind), not a regular file")
    }

    static func describeErrno() -> String {
        String(cString: strerror(errno))
    }
}
