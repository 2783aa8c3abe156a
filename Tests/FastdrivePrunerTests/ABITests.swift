// ABITests.swift — every entry point × bad argument: status, message, untouched outputs.

import CFastdrivePruner
import Testing
@testable import FastdrivePruner

@Suite("C ABI")
struct ABITests {
    static let model = TestModel.file()
    let dim = 32

    func handle(maxTokens: UInt32 = 16, threads: UInt32 = 1) -> OpaquePointer? {
        let (p, status, message) = create(Self.model, maxTokens: maxTokens, threads: threads)
        #expect(status == FASTDRIVE_OK, "\(message)")
        return p
    }

    @Test("version string and number match the header")
    func version() {
        // The string and number macros are preprocessor expressions Swift does not import; the C
        // tests (Tests/c/misuse.c) compare against them, this checks the same from the parts.
        let (major, minor, patch) = (FASTDRIVE_VERSION_MAJOR, FASTDRIVE_VERSION_MINOR, FASTDRIVE_VERSION_PATCH)
        #expect(String(cString: fastdrive_pruner_version()) == "\(major).\(minor).\(patch)")
        #expect(fastdrive_version_number() == major * 1_000_000 + minor * 1_000 + patch)
    }

    @Test("every status has a string; unknown values say so")
    func statusStrings() {
        var seen = Set<String>()
        for raw in UInt32(0)...9 { seen.insert(String(cString: fastdrive_status_string(fastdrive_status(rawValue: raw)))) }
        #expect(seen.count == 10 && !seen.contains("unknown status"))
        #expect(String(cString: fastdrive_status_string(fastdrive_status(rawValue: 4242))) == "unknown status")
    }

    @Test("create rejects NULL arguments and bad options, and sets *out to NULL")
    func createArguments() {
        var p: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        #expect(fastdrive_pruner_create(nil, nil, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT && p == nil)
        #expect(lastError(nil).contains("weights_path is NULL"))
        #expect(fastdrive_pruner_create(Self.model, nil, nil) == FASTDRIVE_ERR_INVALID_ARGUMENT)

        var o = fastdrive_pruner_default_options()
        o.struct_size = 8
        p = OpaquePointer(bitPattern: 0xdead)
        #expect(fastdrive_pruner_create(Self.model, &o, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT && p == nil)
        #expect(lastError(nil).contains("struct_size = 8"))
        o = fastdrive_pruner_default_options()
        o.compute = fastdrive_dtype(rawValue: 7)
        #expect(fastdrive_pruner_create(Self.model, &o, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        o = fastdrive_pruner_default_options()
        o.num_threads = 100_000
        #expect(fastdrive_pruner_create(Self.model, &o, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(lastError(nil).contains("num_threads"))
    }

    @Test("a newer, larger options struct is read up to our size; zero fields mean defaults")
    func optionsGrowth() {
        // 16 bytes of today's struct followed by 16 bytes a future version might add.
        var bigger = [UInt32](repeating: 0, count: 8)
        bigger[0] = 32
        bigger[1] = 64
        var p: OpaquePointer?
        let status = bigger.withUnsafeBytes { raw in
            fastdrive_pruner_create(Self.model, raw.baseAddress!.assumingMemoryBound(to: fastdrive_pruner_options.self), &p)
        }
        #expect(status == FASTDRIVE_OK)
        var info = fastdrive_pruner_info()
        info.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
        #expect(fastdrive_pruner_describe(p, &info) == FASTDRIVE_OK)
        #expect(info.max_tokens == 64 && info.num_threads >= 1 && info.compute == FASTDRIVE_F32)
        fastdrive_pruner_destroy(p)
    }

    @Test("score rejects bad arguments with the documented status and leaves scores untouched")
    func scoreArguments() {
        let p = handle()
        defer { fastdrive_pruner_destroy(p) }
        let tokens = TestModel.tokens(16)
        func run(_ edit: (inout fastdrive_tokens) -> Void, n: Int = 12) -> (fastdrive_status, String, Bool) {
            var out = [Float](repeating: 42, count: 32)
            let status = tokens.withUnsafeBytes { raw in
                var t = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(n), dim: 32,
                                         row_stride: 0, grid_h: 3, grid_w: 4)
                edit(&t)
                return fastdrive_pruner_score(p, &t, &out)
            }
            return (status, lastError(p), out.allSatisfy { $0 == 42 })
        }
        let cases: [(String, fastdrive_status, String, (inout fastdrive_tokens) -> Void)] = [
            ("NULL data", FASTDRIVE_ERR_INVALID_ARGUMENT, "data is NULL", { $0.data = nil }),
            ("dim", FASTDRIVE_ERR_SHAPE, "hidden_size is 32", { $0.dim = 16 }),
            ("n = 0", FASTDRIVE_ERR_INVALID_ARGUMENT, "at least 1", { $0.n_tokens = 0 }),
            ("n < 0", FASTDRIVE_ERR_INVALID_ARGUMENT, "at least 1", { $0.n_tokens = -5 }),
            ("n > max", FASTDRIVE_ERR_CAPACITY, "max_tokens = 16", { $0.n_tokens = 17; $0.grid_h = 0; $0.grid_w = 0 }),
            ("no grid", FASTDRIVE_ERR_SHAPE, "needs the token grid", { $0.grid_h = 0; $0.grid_w = 0 }),
            ("grid", FASTDRIVE_ERR_SHAPE, "does not hold", { $0.grid_h = 4 }),
            ("half grid", FASTDRIVE_ERR_SHAPE, "does not hold", { $0.grid_w = 0 }),
            ("negative grid", FASTDRIVE_ERR_INVALID_ARGUMENT, "negative", { $0.grid_h = -3 }),
            ("stride", FASTDRIVE_ERR_INVALID_ARGUMENT, "row_stride", { $0.row_stride = 31 }),
            ("dtype", FASTDRIVE_ERR_INVALID_ARGUMENT, "dtype", { $0.dtype = fastdrive_dtype(rawValue: 9) }),
            ("overflow", FASTDRIVE_ERR_INVALID_ARGUMENT, "overflows", { $0.row_stride = Int64.max / 2 }),
        ]
        for (name, status, fragment, edit) in cases {
            let (s, message, untouched) = run(edit)
            #expect(s == status, "\(name): \(message)")
            #expect(message.contains(fragment), "\(name): \(message)")
            #expect(untouched, "\(name) wrote scores")
        }
        var out: [Float] = [0]
        #expect(fastdrive_pruner_score(p, nil, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_score(nil, nil, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(lastError(nil).contains("p is NULL"))
    }

    @Test("NaN and Inf tokens are rejected with their position", arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteTokens(_ bad: Float) {
        let p = handle()
        defer { fastdrive_pruner_destroy(p) }
        var tokens = TestModel.tokens(12)
        tokens[5 * 32 + 7] = bad
        let (status, out) = score(p, tokens, n: 12, dim: 32, grid: (3, 4))
        #expect(status == FASTDRIVE_ERR_NON_FINITE)
        #expect(lastError(p).contains("token 5, element 7"))
        #expect(out.allSatisfy { $0.isNaN })
    }

    @Test("a destroyed handle is refused, not used")
    func destroyedHandle() {
        let p = handle()
        fastdrive_pruner_destroy(p)
        let (status, _) = score(p, TestModel.tokens(12), n: 12, dim: 32, grid: (3, 4))
        #expect(status == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(lastError(nil).contains("not a live handle"))
        #expect(lastError(p).contains("not a live handle"))
        fastdrive_pruner_destroy(p)  // a second destroy is ignored
        fastdrive_pruner_destroy(nil)
    }

    @Test("describe checks its arguments")
    func describeArguments() {
        let p = handle()
        defer { fastdrive_pruner_destroy(p) }
        var info = fastdrive_pruner_info()
        #expect(fastdrive_pruner_describe(p, &info) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_describe(p, nil) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        #expect(fastdrive_pruner_describe(nil, &info) == FASTDRIVE_ERR_INVALID_ARGUMENT)
        // An older, shorter struct gets only its own fields.
        var short = [UInt32](repeating: 0xAAAA_AAAA, count: 6)
        short[0] = 16
        let status = short.withUnsafeMutableBytes { fastdrive_pruner_describe(p, $0.baseAddress!.assumingMemoryBound(to: fastdrive_pruner_info.self)) }
        #expect(status == FASTDRIVE_OK && short[0] == 16 && short[1] == 16 && short[4] == 0xAAAA_AAAA)
    }

    @Test("row-strided, f16 and bf16 tokens score like contiguous f32")
    func tokenLayouts() {
        let p = handle()
        defer { fastdrive_pruner_destroy(p) }
        // Values exactly representable in bf16 (and so in f16 at this range).
        let tokens = TestModel.tokens(12).map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        let reference = score(p, tokens, n: 12, dim: 32, grid: (3, 4))
        #expect(reference.0 == FASTDRIVE_OK)
        var strided = [Float](repeating: .nan, count: 12 * 40)
        for r in 0..<12 { for c in 0..<32 { strided[r * 40 + c] = tokens[r * 32 + c] } }
        var out = [Float](repeating: 0, count: 12)
        strided.withUnsafeBytes { raw in
            var t = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: 12, dim: 32, row_stride: 40, grid_h: 3, grid_w: 4)
            #expect(fastdrive_pruner_score(p, &t, &out) == FASTDRIVE_OK)
        }
        #expect(out == reference.1)
        let halves = tokens.map { Float16($0).bitPattern }
        let bf = tokens.map { UInt16($0.bitPattern >> 16) }
        for (dtype, bits) in [(FASTDRIVE_F16, halves), (FASTDRIVE_BF16, bf)] {
            bits.withUnsafeBytes { raw in
                var t = fastdrive_tokens(data: raw.baseAddress, dtype: dtype, n_tokens: 12, dim: 32, row_stride: 0, grid_h: 3, grid_w: 4)
                #expect(fastdrive_pruner_score(p, &t, &out) == FASTDRIVE_OK)
            }
            #expect(out == reference.1, "dtype \(dtype.rawValue)")
        }
    }

    @Test("one and several threads give bit-identical scores, call after call")
    func threadsAgree() {
        let one = handle(maxTokens: 700, threads: 1), three = handle(maxTokens: 700, threads: 3)
        defer { fastdrive_pruner_destroy(one); fastdrive_pruner_destroy(three) }
        let tokens = TestModel.tokens(700)
        let a = score(one, tokens, n: 700, dim: 32, grid: (28, 25))
        let b = score(three, tokens, n: 700, dim: 32, grid: (28, 25))
        let c = score(three, tokens, n: 700, dim: 32, grid: (28, 25))
        #expect(a.0 == FASTDRIVE_OK && b.0 == FASTDRIVE_OK)
        #expect(a.1 == b.1 && b.1 == c.1)
    }

    @Test("the last error survives a later success on the same handle")
    func errorIsSticky() {
        let p = handle()
        defer { fastdrive_pruner_destroy(p) }
        _ = score(p, TestModel.tokens(12), n: 12, dim: 31, grid: (3, 4))
        let message = lastError(p)
        #expect(!message.isEmpty)
        #expect(score(p, TestModel.tokens(12), n: 12, dim: 32, grid: (3, 4)).0 == FASTDRIVE_OK)
        #expect(lastError(p) == message)
    }
}
