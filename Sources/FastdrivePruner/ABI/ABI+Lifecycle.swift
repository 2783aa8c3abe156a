// ABI+Lifecycle.swift — default_options, create, destroy, info, version.

import CFastdrivePruner
#if canImport(Glibc)
import Glibc  // strdup
#endif

/// The 1.1 defaults (the header binds fastdrive_pruner_default_options to this symbol).
@c @implementation
public func fastdrive_pruner_default_options() -> fastdrive_pruner_options {
    var o = fastdrive_pruner_options()
    o.struct_size = UInt32(MemoryLayout<fastdrive_pruner_options>.size)
    o.max_tokens = UInt32(PrunerOptions.defaultMaxTokens)
    return o
}

/// The symbol fastdrive_pruner_default_options as a 1.0 binary calls it: the 16-byte 1.0 struct,
/// returned in registers.
@c(fastdrive_pruner_default_options)
public func fastdrive_pruner_default_options_1_0() -> fastdrive_pruner_options_1_0 {
    fastdrive_pruner_options_1_0(struct_size: UInt32(MemoryLayout<fastdrive_pruner_options_1_0>.size),
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
    _ = ProcessExit.registered
    guard ProcessExit.enter() else { return fail(ProcessExit.refusal, function: #function) }
    defer { ProcessExit.leave() }
    do throws(PrunerError) {
        let opts = try readOptions(options)
        // The path's bytes go to open() as given: no UTF-8 decoding (a Latin-1 name must work).
        let pruner = try Pruner(path: RawPath(cString: weightsPath), options: opts)
        out.pointee = HandleBox.open(PrunerHandle(pruner: pruner))
        return FASTDRIVE_OK
    } catch {
        return fail(error, function: #function)
    }
}

/// The caller's options (NULL = defaults), validated.
private func readOptions(_ p: UnsafePointer<fastdrive_pruner_options>?) throws(PrunerError) -> PrunerOptions {
    guard let p else { return try PrunerOptions() }
    let o = try fastdrive_pruner_options.read(p, name: "options")
    return try PrunerOptions(maxTokens: Int(o.max_tokens), threads: Int(o.num_threads),
                             compute: Int32(bitPattern: o.compute.rawValue),
                             abortCallback: o.abort_callback, abortUserData: o.abort_user_data,
                             loading: Int32(bitPattern: o.load.rawValue),
                             blasThreads: Int32(bitPattern: o.blas_threads.rawValue))
}

@c @implementation
public func fastdrive_pruner_request_abort(_ p: OpaquePointer?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    handle.pruner.requestAbort()
    return FASTDRIVE_OK
}

@c @implementation
public func fastdrive_pruner_reset_abort(_ p: OpaquePointer?) -> fastdrive_status {
    guard let handle = HandleBox.borrow(p) else {
        return fail(.invalidArgument(HandleBox.describeMissing(p)), function: #function)
    }
    handle.pruner.resetAbort()
    return FASTDRIVE_OK
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
    do throws(PrunerError) {
        try info.write(to: out, name: "out")
    } catch {
        return fail(error, function: #function, handle: handle)
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
