// PrunerOptions.swift — the validated Swift mirror of fastdrive_pruner_options.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Create-time options with defaults applied (0 means default in every field).
package struct PrunerOptions: Equatable, Sendable {
    static let defaultMaxTokens = 4096
    /// Beyond this a thread count is a mistake, not a machine.
    static let maxThreads = 256

    var maxTokens: Int
    var threads: Int
    var compute: ComputeType

    /// Validates raw option values; `threads == 0` means every online core.
    package init(maxTokens: Int = 0, threads: Int = 0, compute rawCompute: Int32 = 0) throws(PrunerError) {
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
        self.threads = threads == 0 ? Self.onlineCores : threads
        self.compute = compute
    }

    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
