// NPYFile.swift — reading and writing .npy files by path, bounded and without blocking on open.
//
// Reading never allocates more than the file can hold: a regular file's declared payload must
// equal its remaining size before the payload buffer exists; a stream (a pipe, /dev/stdin, a
// FIFO, a device) is read as its bytes arrive, and its declared size must fit this machine's
// memory. Opening never blocks: a FIFO is opened non-blocking (so an absent writer means an
// empty input, not a wait for ever), and only then switched to blocking reads. Paths are C
// strings passed to open() unchanged (any encoding).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public enum NPYFile {
    /// Reads and validates the .npy file at `path`; `name` labels the messages.
    public static func read(path: UnsafePointer<CChar>, name: String) throws(NPYError) -> NPYArray {
        do throws(NPYError) {
            return try readUnlabelled(path)
        } catch {
            throw NPYError("'\(name)': \(error.description)")
        }
    }

    /// Writes `array` to `path` (created or truncated); `name` labels the messages.
    public static func write(_ array: NPYArray, path: UnsafePointer<CChar>, name: String) throws(NPYError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0o666)
        guard fd >= 0 else { throw NPYError("cannot write '\(name)': \(reason())") }
        let bytes = array.serialized()
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) }
        let failure = written ? nil : reason()
        guard close(fd) == 0, written else { throw NPYError("cannot write '\(name)': \(failure ?? reason())") }
    }

    private static func readUnlabelled(_ path: UnsafePointer<CChar>) throws(NPYError) -> NPYArray {
        var st = stat()
        guard stat(path, &st) == 0 else { throw NPYError("cannot open: \(reason())") }
        guard st.st_mode & S_IFMT != S_IFDIR else { throw NPYError("is a directory") }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw NPYError("cannot open: \(reason())") }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw NPYError("cannot stat: \(reason())") }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return try readRegular(fd, size: Int(st.st_size))
        case S_IFDIR:
            throw NPYError("is a directory")
        default:
            // Blocking reads from here: a writer that is connected is waited for, as `cat` would.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            return try readStream(fd)
        }
    }

    /// A regular file of `size` bytes: header first, then the payload, whose declared length
    /// must be exactly what is left of the file before its buffer is allocated.
    private static func readRegular(_ fd: Int32, size: Int) throws(NPYError) -> NPYArray {
        let (header, total) = try readHeader(fd)
        let expected = try header.payloadLength()
        let available = size - total
        guard available == expected else {
            throw NPYError(available < expected
                ? "truncated: \(available) data bytes for shape \(header.shape) of '\(header.descr)' (\(expected) expected)"
                : "\(available - expected) bytes after the data of shape \(header.shape) of '\(header.descr)'")
        }
        let payload = try readUpTo(fd, expected)
        guard payload.count == expected else { throw NPYError("the file shrank while being read") }
        return try NPYArray(header: header, payload: payload)
    }

    /// A pipe, FIFO or device: the header as it arrives, then the declared payload (which must
    /// fit in memory), then end of input.
    private static func readStream(_ fd: Int32) throws(NPYError) -> NPYArray {
        let (header, _) = try readHeader(fd)
        let expected = try header.payloadLength()
        let memory = Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
        guard expected <= memory else {
            throw NPYError("shape \(header.shape) of '\(header.descr)' needs \(expected) bytes, more than this machine's memory")
        }
        let payload = try readUpTo(fd, expected)
        guard payload.count == expected else {
            throw NPYError("truncated: \(payload.count) data bytes for shape \(header.shape) of '\(header.descr)' (\(expected) expected)")
        }
        guard try readUpTo(fd, 1).isEmpty else { throw NPYError("more bytes after the data of shape \(header.shape)") }
        return try NPYArray(header: header, payload: payload)
    }

    /// Reads exactly the preamble and the header dict (no byte of the payload) and parses them;
    /// returns the header and its length in bytes.
    private static func readHeader(_ fd: Int32) throws(NPYError) -> (NPYHeader, Int) {
        var bytes = try readUpTo(fd, 10)
        guard !bytes.isEmpty else { throw NPYError("empty input") }
        if bytes.count == 10 && bytes[6] >= 2 { bytes += try readUpTo(fd, 2) }
        let total = try NPYHeader.totalLength(prefix: bytes)  // >= the preamble read so far
        bytes += try readUpTo(fd, total - bytes.count)
        guard bytes.count == total else { throw NPYError("truncated .npy header (\(bytes.count) of \(total) bytes)") }
        let (header, _) = try NPYHeader.parse(bytes)
        return (header, total)
    }

    /// Up to `count` bytes, fewer only at end of input. The buffer grows with the bytes that
    /// actually arrive (64 MiB at a time), never to a declared size up front.
    private static func readUpTo(_ fd: Int32, _ count: Int) throws(NPYError) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 26))
        while out.count < count {
            let want = min(chunk.count, count - out.count)
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw NPYError("read failed: \(reason())")
            }
            if n == 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    private static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}

// read(2) and write(2), out of reach of NPYFile's own read/write names.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
