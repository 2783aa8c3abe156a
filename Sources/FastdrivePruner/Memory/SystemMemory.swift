// SystemMemory.swift — how much memory the host can give: the one limit create checks plans against.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum SystemMemory {
    /// The limit for memory a handle is about to make resident (its arena, converted weights, a
    /// read copy of the file): a larger request is refused up front, since an overcommitting
    /// kernel would accept it and the OOM killer end the host later. The smaller of
    /// MemAvailable (physical memory when /proc is missing) and the cgroup's headroom.
    static func limit(in host: ControlGroup = .host) -> (bytes: Int, explanation: String) {
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
        var bytes = physical
        var explanation = "physical memory \(mib(physical))"
        if let available = host.memAvailable {
            bytes = available
            explanation = "MemAvailable \(mib(available))"
        }
        if let cgroup = host.memoryHeadroom {
            explanation += ", cgroup memory limit \(mib(cgroup.limit)) with \(mib(cgroup.used)) in use"
            bytes = min(bytes, cgroup.headroom)
        }
        return (bytes, explanation)
    }

    /// Throws OUT_OF_MEMORY, with the numbers, when `bytes` for `what` exceed the limit.
    static func require(_ bytes: Int, for what: @autoclosure () -> String, in host: ControlGroup = .host) throws(PrunerError) {
        let limit = limit(in: host)
        guard bytes <= limit.bytes else {
            throw .outOfMemory("\(what()) needs \(mib(bytes)), but this process can get \(mib(limit.bytes)) (\(limit.explanation))")
        }
    }

    static func mib(_ bytes: Int) -> String { "\(bytes >> 20) MiB" }
}
