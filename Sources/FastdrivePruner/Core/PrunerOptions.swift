// PrunerOptions.swift — the validated Swift mirror of fastdrive_pruner_options.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Create-time options with defaults applied (0 means default in every field).
package struct PrunerOptions: @unchecked Sendable {
    static let defaultMaxTokens = 4096
    /// Beyond this a thread count is a mistake, not a machine.
    static let maxThreads = 256

    var maxTokens: Int
    var threads: Int
    var compute: ComputeType
    /// The host's abort check and its argument (fastdrive_abort_callback); nil = none.
    var abortCallback: AbortCallback?
    var abortUserData: UnsafeMutableRawPointer?
    var loading: WeightLoading
    var blasThreads: BLASThreadMode
    /// Where the memory and CPU limits are read (tests give a fake /proc and /sys).
    var host: ControlGroup

    /// Validates raw option values; `threads == 0` means the CPUs this process may use.
    package init(maxTokens: Int = 0, threads: Int = 0, compute rawCompute: Int32 = 0,
                 abortCallback: AbortCallback? = nil, abortUserData: UnsafeMutableRawPointer? = nil,
                 loading rawLoading: Int32 = 0, blasThreads rawBLAS: Int32 = 0,
                 host: ControlGroup = .host) throws(PrunerError) {
        guard maxTokens >= 0 else { throw .invalidArgument("max_tokens = \(maxTokens) is negative") }
        guard threads >= 0, threads <= Self.maxThreads else {
            throw .invalidArgument("num_threads = \(threads) is outside 0...\(Self.maxThreads)")
        }
        let compute: ComputeType
        if let known = ComputeType(rawValue: rawCompute) {
            compute = known
        } else if ElementType(rawValue: rawCompute) == .f16 {
            throw .unsupported("compute = F16 is not available (F32, BF16 or INT8)")
        } else {
            throw .invalidArgument("compute = \(rawCompute) is not FASTDRIVE_F32, FASTDRIVE_BF16 or FASTDRIVE_INT8")
        }
        guard let loading = WeightLoading(rawValue: rawLoading) else {
            throw .invalidArgument("load = \(rawLoading) is not FASTDRIVE_LOAD_MMAP or FASTDRIVE_LOAD_READ")
        }
        guard let blas = BLASThreadMode(rawValue: rawBLAS) else {
            throw .invalidArgument("blas_threads = \(rawBLAS) is not FASTDRIVE_BLAS_THREADS_SET_ONE, _RESTORE or _LEAVE")
        }
        // What this CPU can run.
        switch compute {
        case .f32:
            break
        case .bf16:
            guard Kernels.bf16Supported else {
                throw .unsupported("compute = BF16 needs a CPU with AVX512_BF16; this one has none (use F32)")
            }
        case .int8:
            guard Kernels.int8Supported else {
                throw .unsupported("compute = INT8 needs a CPU with AVX512-VNNI; this one has none (use F32)")
            }
        }
        self.maxTokens = maxTokens == 0 ? Self.defaultMaxTokens : maxTokens
        self.threads = threads == 0 ? Self.usableCPUs(in: host) : threads
        self.compute = compute
        self.abortCallback = abortCallback
        self.abortUserData = abortUserData
        self.loading = loading
        self.blasThreads = blas
        self.host = host
    }

    /// The CPUs this process may run on: its affinity mask (taskset, cpusets), capped by its
    /// cgroup's CPU quota rounded up (a quota of 1.5 CPUs gets 2 threads), at least 1. More
    /// threads than that only wait for each other's time slices.
    package static func usableCPUs(in host: ControlGroup = .host) -> Int {
        var cpus = host.allowedCPUs ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let quota = host.cpuQuota { cpus = min(cpus, quota) }
        return max(1, cpus)
    }
}
