// PrunerOptions.swift — the validated Swift mirror of fastdrive_pruner_options.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Create-time options with defaults applied (0 means default in every field).
public struct PrunerOptions: Equatable, Sendable {
    public static let defaultMaxTokens = 4096
    /// Beyond this a thread count is a mistake, not a machine.
    public static let maxThreads = 256

    public var maxTokens: Int
    public var threads: Int
    public var compute: ElementType

    /// Validates raw option values; `threads == 0` means every online core.
    public init(maxTokens: Int = 0, threads: Int = 0, compute rawCompute: Int32 = 0) throws(PrunerError) {
        guard maxTokens >= 0 else { throw .invalidArgument("max_tokens = \(maxTokens) is negative") }
        guard threads >= 0, threads <= Self.maxThreads else {
            throw .invalidArgument("num_threads = \(threads) is outside 0...\(Self.maxThreads)")
        }
        guard let compute = ElementType(rawValue: rawCompute) else {
            throw .invalidArgument("compute = \(rawCompute) is not FASTDRIVE_F32 or FASTDRIVE_BF16")
        }
        guard compute == .f32 else {
            throw .unsupported("compute = \(compute.name) is not available in this build (F32 only)")
        }
        self.maxTokens = maxTokens == 0 ? Self.defaultMaxTokens : maxTokens
        self.threads = threads == 0 ? Self.onlineCores : threads
        self.compute = compute
    }

    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
