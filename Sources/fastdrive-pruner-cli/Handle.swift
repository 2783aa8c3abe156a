// Handle.swift — a pruner loaded through the C ABI, and token arrays read for it.

import CFastdrivePruner
import FastdrivePruner
import NPY

/// A loaded pruner through the C ABI, destroyed on deinit.
final class Handle {
    let raw: OpaquePointer

    init(path: RawPath, maxTokens: UInt32, threads: UInt32, compute: Compute = .f32) throws {
        var options = fastdrive_pruner_default_options()
        options.max_tokens = maxTokens
        options.num_threads = threads
        options.compute = compute.dtype
        var p: OpaquePointer?
        let status = path.withCString { fastdrive_pruner_create($0, &options, &p) }
        guard status == FASTDRIVE_OK, let p else { throw CLIError(String(cString: fastdrive_pruner_last_error(nil))) }
        raw = p
    }

    deinit { fastdrive_pruner_destroy(raw) }

    func check(_ status: fastdrive_status) throws {
        guard status == FASTDRIVE_OK else { throw CLIError(String(cString: fastdrive_pruner_last_error(raw))) }
    }

    var info: fastdrive_pruner_info {
        var i = fastdrive_pruner_info()
        i.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
        _ = fastdrive_pruner_describe(raw, &i)
        return i
    }

    /// The grid to score `n` tokens with: the one given, else none, except under rope = mrope,
    /// where positions depend on it: there only n = 1 has one possible grid, and any other n
    /// needs --grid (a 16:9 camera's 36×64 = 2304 tokens is also 48×48: guessing a square
    /// would silently score the wrong frame).
    func grid(for n: Int, given: Grid?) throws -> Grid? {
        if let given { return given }
        guard info.rope == FASTDRIVE_ROPE_MROPE else { return nil }
        guard n == 1 else {
            throw CLIError("this pruner uses rope = mrope: give the token grid of the \(n) tokens with --grid HxW (e.g. --grid 57x57 for 3249 tokens of a 1596×1596 frame)")
        }
        return Grid(h: 1, w: 1)
    }

    /// Scores `tokens`.
    func score(_ tokens: Tokens, grid: Grid?) throws -> [Float] {
        let g = try self.grid(for: tokens.n, given: grid)
        var scores = [Float](repeating: 0, count: tokens.n)
        try tokens.array.payload.withUnsafeBytes { bytes in
            var view = fastdrive_tokens(data: bytes.baseAddress, dtype: tokens.dtype, n_tokens: Int64(tokens.n),
                                        dim: Int64(tokens.dim), row_stride: 0, grid_h: g?.h ?? 0, grid_w: g?.w ?? 0)
            try check(fastdrive_pruner_score(raw, &view, &scores))
        }
        return scores
    }

}

/// The grid the benchmarks give their random frame of `n` tokens: square when n is a square,
/// else one row (the tokens are synthetic: any grid that holds them is right).
func syntheticGrid(_ n: Int) throws -> (Int, Int) {
    let s = Int(Double(n).squareRoot().rounded())
    if s * s == n { return (s, s) }
    guard n <= Int(Int32.max) else { throw CLIError("\(n) tokens do not fit one row of a grid (at most \(Int32.max))") }
    return (1, n)
}

/// A [n_tokens, dim] token array from a .npy file, in an element type the library reads.
struct Tokens {
    let array: NPYArray
    let dtype: fastdrive_dtype
    let n: Int
    let dim: Int

    /// Reads and checks `path` (its argument bytes): 2-D, n and dim >= 1, n within a handle's
    /// capacity (uint32), float32 / float16 / bfloat16 ('<V2', as ml_dtypes saves it).
    init(path: RawPath) throws {
        do {
            array = try path.withCString { p throws(NPYError) in try NPYFile.read(path: p, name: path.description) }
        } catch {
            throw CLIError(error.description)
        }
        switch array.descr {
        case "<f4": dtype = FASTDRIVE_F32
        case "<f2": dtype = FASTDRIVE_F16
        case "<V2": dtype = FASTDRIVE_BF16
        default:
            throw CLIError("'\(path)': tokens of dtype '\(array.descr)' are not supported: float32, float16 or bfloat16 ('<V2')")
        }
        guard array.shape.count == 2 else {
            throw CLIError("'\(path)': tokens must be a 2-D array [n_tokens, dim], got shape \(array.shape)")
        }
        (n, dim) = (array.shape[0], array.shape[1])
        guard n >= 1, dim >= 1 else { throw CLIError("'\(path)': tokens of shape \(array.shape) are empty") }
        guard n <= Int(UInt32.max) else {
            throw CLIError("'\(path)': \(n) tokens, more than a handle can hold (max_tokens <= \(UInt32.max))")
        }
    }

    /// The capacity to create a handle with: --max-tokens, or the number of tokens.
    func capacity(_ maxTokens: UInt32) -> UInt32 { maxTokens == 0 ? UInt32(n) : maxTokens }

    /// Rows `indices` (each in 0 ..< n), in the file's element type.
    func rows(_ indices: [Int64]) throws -> NPYArray {
        let rowBytes = array.payload.count / n
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * rowBytes)
        for i in indices { out += array.payload[Int(i) * rowBytes..<(Int(i) + 1) * rowBytes] }
        do {
            return try NPYArray(header: NPYHeader(descr: array.descr, shape: [indices.count, dim]), payload: out)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// Writes `array` to `path` (its argument bytes).
func write(_ array: NPYArray, to path: RawPath) throws {
    do {
        try path.withCString { p throws(NPYError) in try NPYFile.write(array, path: p, name: path.description) }
    } catch {
        throw CLIError(error.description)
    }
}

/// `values` as a 1-D .npy array of `descr`.
func vector<T>(_ values: [T], descr: String) -> NPYArray {
    let bytes = values.withUnsafeBytes { Array($0) }
    return try! NPYArray(header: NPYHeader(descr: descr, shape: [values.count]), payload: bytes)
}
