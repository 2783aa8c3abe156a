// ABI+Lifecycle.swift — default_options, create, destroy, info, version.

import CFastdrivePruner
#if canImport(Glibc)
import Glibc  // strdup
#endif

/// The 1.0 size of fastdrive_pruner_options: the smallest struct_size accepted.
private let optionsSizeV1 = UInt32(16)

@c @implementation
public func fastdrive_pruner_default_options() -> fastdrive_pruner_options {
    fastdrive_pruner_options(struct_size: UInt32(MemoryLayout<fastdrive_pruner_options>.size),
                             max_tokens: UInt32(PrunerOptions.defaultMaxTokens), num_threads: 0,
                             compute: FASTDRIVE_F32)
}

@c @implementation
public func fastdrive_pruner_create(_ weightsPath: UnsafePointer<CChar>?,
                                    _ options: UnsafePointer<fastdrive_pruner_options>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> fastdrive_status {
    guard let out else {
        return fail(.invalidArgument("out is NULL"), function: #function)
    }
    out.pointee = nil
    guard let weightsPath else {
        return fail(.invalidArgument("weights_path is NULL"), function: #function)
    }
    do throws(PrunerError) {
        let opts = try readOptions(options)
        let pruner = try Pruner(path: String(cString: weightsPath), options: opts)
        out.pointee = HandleBox.open(PrunerHandle(pruner: pruner))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function)
    }
}

/// Reads min(struct_size, our size) bytes of the caller's options; the rest stay defaults.
private func readOptions(_ p: UnsafePointer<fastdrive_pruner_options>?) throws(PrunerError) -> PrunerOptions {
    guard let p else { return try PrunerOptions() }
    let size = UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)
    guard size >= optionsSizeV1 else {
        throw .invalidArgument("options->struct_size = \(size); expected sizeof(fastdrive_pruner_options) (>= \(optionsSizeV1))")
    }
    var o = fastdrive_pruner_options()
    withUnsafeMutableBytes(of: &o) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: p, count: min(Int(size), dst.count)))
    }
    return try PrunerOptions(maxTokens: Int(o.max_tokens), threads: Int(o.num_threads), compute: Int32(bitPattern: o.compute.rawValue))
}

@c @implementation
public func fastdrive_pruner_destroy(_ p: OpaquePointer?) {
    guard let p else { return }
    _ = HandleBox.close(p)
}

@c @implementation
public func fastdrive_pruner_describe(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<fastdrive_pruner_info>?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    guard let out else {
        return fail(.invalidArgument("out is NULL"), function: #function, handle: handle)
    }
    let size = UnsafeRawPointer(out).loadUnaligned(as: UInt32.self)
    guard size >= 8 else {
        return fail(.invalidArgument("out->struct_size = \(size); set it to sizeof(fastdrive_pruner_info)"),
                    function: #function, handle: handle)
    }
    let pruner = handle.pruner, c = pruner.config
    var info = fastdrive_pruner_info()
    info.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
    info.max_tokens = UInt32(pruner.options.maxTokens)
    info.num_threads = UInt32(pruner.options.threads)
    info.compute = fastdrive_dtype(rawValue: UInt32(pruner.options.compute.rawValue))
    info.hidden_size = Int64(c.hiddenSize)
    info.intermediate_size = Int64(c.intermediateSize)
    info.num_attention_heads = Int64(c.heads)
    info.num_key_value_heads = Int64(c.kvHeads)
    info.head_dim = Int64(c.headDim)
    info.parameter_count = Int64(c.parameterCount)
    info.rms_norm_eps = c.rmsNormEps
    info.rope_theta = c.ropeTheta
    info.rope = fastdrive_rope(rawValue: UInt32(c.rope.rawValue))
    info.attention = fastdrive_attention(rawValue: UInt32(c.attention.rawValue))
    info.mrope_section = (Int32(c.mropeSection[0]), Int32(c.mropeSection[1]), Int32(c.mropeSection[2]))
    info.arena_bytes = Int64(pruner.arenaBytes)
    // Keep the caller's struct_size: fill only what both sides know.
    withUnsafeBytes(of: &info) { src in
        UnsafeMutableRawPointer(out).advanced(by: 4)
            .copyMemory(from: src.baseAddress! + 4, byteCount: min(Int(size), src.count) - 4)
    }
    return FASTDRIVE_OK
}

/// "MAJOR.MINOR.PATCH" from the header's FASTDRIVE_VERSION_* macros, the project's one version
/// number (Swift cannot import the header's stringified FASTDRIVE_VERSION_STRING). Made on first
/// use and kept for the life of the process, so the returned pointer is static as the header says
/// (written once under the lazy-global lock, then only read: safe to share).
nonisolated(unsafe) private let versionText: UnsafePointer<CChar> = {
    let text = "\(FASTDRIVE_VERSION_MAJOR).\(FASTDRIVE_VERSION_MINOR).\(FASTDRIVE_VERSION_PATCH)"
    return UnsafePointer(strdup(text)!)
}()

@c @implementation
public func fastdrive_pruner_version() -> UnsafePointer<CChar>? {
    versionText
}

@c @implementation
public func fastdrive_version_number() -> Int32 {
    FASTDRIVE_VERSION_MAJOR * 1_000_000 + FASTDRIVE_VERSION_MINOR * 1_000 + FASTDRIVE_VERSION_PATCH
}
