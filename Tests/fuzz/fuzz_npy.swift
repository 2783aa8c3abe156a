// fuzz_npy.swift — libFuzzer entry point: arbitrary bytes as a .npy file through Sources/NPY.
//
// Compiled together with Sources/NPY/*.swift by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address
// -parse-as-library): no SwiftPM target, so the package's own builds never see fuzzer flags.
// Each input goes through both entry points: NPYArray(parsing:) on the bytes, and NPYFile.read
// on a file holding them (a tmpfs file rewritten per input: the reader's own header-then-payload
// path, which the CLI uses). Beyond "no crash, no leak, no hang", it traps (= a finding) when the
// reader breaks its contract: an accepted array whose payload does not match its header, a
// serialisation that does not parse back to the same array, the two entry points disagreeing,
// or a rejection without a message.

#if canImport(Glibc)
import Glibc
#endif

private let path: String = {
    let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(dir)/fastdrive-fuzz-npy-\(getpid()).npy"
}()
private let fd: Int32 = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var parsed: NPYArray?
    do {
        let array = try NPYArray(parsing: bytes)
        precondition(array.payload.count == (try? array.header.payloadLength()), "payload does not match the header")
        precondition(array.shape.allSatisfy { $0 >= 0 }, "negative dimension accepted")
        let again = try NPYArray(parsing: array.serialized())
        precondition(again == array, "serialised array does not parse back to itself")
        parsed = array
    } catch {
        precondition(!error.description.isEmpty, "rejection without a message")
    }

    precondition(fd >= 0 && ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == size, "cannot write the input file")
    do {
        let read = try path.withCString { p throws(NPYError) in try NPYFile.read(path: p, name: "input") }
        precondition(read == parsed, "NPYFile.read accepted what NPYArray(parsing:) rejects, or read it differently")
    } catch {
        precondition(parsed == nil, "NPYFile.read rejected what NPYArray(parsing:) accepts: \(error)")
        precondition(!"\(error)".isEmpty, "rejection without a message")
    }
    return 0
}
