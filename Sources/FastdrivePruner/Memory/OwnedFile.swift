// OwnedFile.swift — a weight file read whole into memory the handle owns (FASTDRIVE_LOAD_READ).
//
// For hosts that cannot stop a weight file being rewritten in place (a mapping would show the
// new bytes, or SIGBUS on truncation) and for file systems without mmap. The file is opened
// with the same checks as MappedFile, read to its end, and closed before create returns.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

final class OwnedFile: FileBytes, @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(path: RawPath, host: ControlGroup = .host) throws(PrunerError) {
        let (fd, length) = try MappedFile.openRegular(path)
        defer { close(fd) }
        // Aligned like a page, so the tensors land where they would in a mapping (the loader
        // uses 64-byte-aligned F32 tensors in place either way: same code path, same scores).
        try SystemMemory.require(length, for: "reading the weight file into memory (\(length) bytes)", in: host)
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, 4096, max(length, 1)) == 0, let p else {
            throw .outOfMemory("cannot allocate \(length) bytes to read '\(path)' into")
        }
        var done = 0
        while done < length {
            let n = pread(fd, p + done, min(length - done, 1 << 30), off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = n < 0 ? MappedFile.describeErrno() : "the file ended at byte \(done) (truncated while being read)"
                free(p)
                throw .io("cannot read '\(path)': \(reason)")
            }
            done += n
        }
        bytes = UnsafeRawBufferPointer(start: length == 0 ? nil : UnsafeRawPointer(p), count: length)
        if length == 0 { free(p) }
    }

    deinit {
        if let base = bytes.baseAddress { free(UnsafeMutableRawPointer(mutating: base)) }
    }

    /// Converted tensors' bytes are not read again, but this memory is one block: keep it.
    func release(_ start: UnsafeRawPointer, count: Int) {}
}
