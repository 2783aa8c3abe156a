// SystemMemory.swift — how much memory the host can give: the one limit create checks plans against.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum SystemMemory {
    /// The limit for memory a handle is about to make resident (its arena, converted weights):
    /// a larger request is refused up front, since an overcommitting kernel would accept it and
    /// the OOM killer end the host later. Today the machine's physical memory; a limit that
    /// knows about available memory and cgroups belongs here, and every check follows it.
    static var limitBytes: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
