// SelectTests.swift — fastdrive_select: every policy against the NumPy reference, every bad input.
//
// Fixtures: Tests/Fixtures/policies (made by scripts/policies_reference.py: independent NumPy
// implementations of the published rules; random, clustered, duplicated, all-equal, zero-row
// and single-token frames; K from 1 to N, N not divisible by K).

import CFastdrivePruner
import Foundation
import NPY
import Testing
@testable import FastdrivePruner

@Suite("fastdrive_select")
struct SelectTests {
    static let model = TestModel.file()
    static let dim = 32

    struct Expectation: Decodable {
        let policy: String
        let k: Int
        let seed: String?
        let ratio: Double?
        let theta: Double?
        let image_pivots: Int64?
        let text_pivots: Int64?
        let pivot_rows: Bool?
        let indices: [Int64]
    }

    struct Case: Decodable {
        let name: String
        let n: Int
        let expect: [Expectation]
    }

    struct Manifest: Decodable { let cases: [Case] }

    static let folder = TestFiles.fixtures.appendingPathComponent("policies")
    static let cases: [Case] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("cases.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data).cases
    }()

    static func load(_ c: Case) -> (tokens: [Float], aux: [Float]) {
        (try! NPYArray(path: folder.appendingPathComponent("\(c.name).tokens.npy").path).floats,
         try! NPYArray(path: folder.appendingPathComponent("\(c.name).aux.npy").path).floats)
    }

    /// DART's six host pivot rows of a case [6 × dim].
    static func pivots(_ c: Case) -> [Float] {
        try! NPYArray(path: folder.appendingPathComponent("\(c.name).pivots.npy").path).floats
    }

    static func params(_ policy: fastdrive_policy, k: Int) -> fastdrive_select_params {
        var q = fastdrive_select_params()
        q.struct_size = UInt32(MemoryLayout<fastdrive_select_params>.size)
        q.policy = policy
        q.k = Int64(k)
        return q
    }

    /// Calls fastdrive_select on f32 tokens [n × dim]; `aux` is passed when given.
    static func select(_ p: OpaquePointer?, _ tokens: [Float], n: Int, dim: Int = dim,
                       grid: (Int32, Int32) = (0, 0), params: fastdrive_select_params, aux: [Float]? = nil,
                       pivotRows: [Float]? = nil, pivotDim: Int = dim,
                       outCount: Int? = nil) -> (fastdrive_status, [Int64]) {
        var out = [Int64](repeating: -7, count: outCount ?? max(Int(params.k), 1))
        var q = params
        let rows = pivotRows ?? []
        return rows.withUnsafeBytes { pivotRaw in
            var pivotView = fastdrive_tokens(data: pivotRaw.baseAddress, dtype: FASTDRIVE_F32,
                                             n_tokens: Int64(rows.count / max(pivotDim, 1)), dim: Int64(pivotDim),
                                             row_stride: 0, grid_h: 0, grid_w: 0)
            return withUnsafePointer(to: &pivotView) { pv in
                if pivotRows != nil { q.pivot_rows = pv }
                return selectInner(p, tokens, n: n, dim: dim, grid: grid, q: &q, aux: aux, out: &out)
            }
        }
    }

    private static func selectInner(_ p: OpaquePointer?, _ tokens: [Float], n: Int, dim: Int, grid: (Int32, Int32),
                                    q: inout fastdrive_select_params, aux: [Float]?,
                                    out: inout [Int64]) -> (fastdrive_status, [Int64]) {
        let status = tokens.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: Int64(n), dim: Int64(dim),
                                        row_stride: 0, grid_h: grid.0, grid_w: grid.1)
            guard let aux else { return fastdrive_select(p, &view, &q, &out) }
            return aux.withUnsafeBufferPointer { a in
                q.aux = a.baseAddress
                if q.aux_count == 0 { q.aux_count = Int64(a.count) }
                return fastdrive_select(p, &view, &q, &out)
            }
        }
        return (status, out)
    }

    static func policy(named name: String) -> fastdrive_policy {
        switch name {
        case "reconpruner_aux": FASTDRIVE_POLICY_RECONPRUNER
        case "divprune": FASTDRIVE_POLICY_DIVPRUNE
        case "attention": FASTDRIVE_POLICY_ATTENTION
        case "vispruner": FASTDRIVE_POLICY_VISPRUNER
        case "norm": FASTDRIVE_POLICY_NORM
        case "uniform": FASTDRIVE_POLICY_UNIFORM
        case "dart": FASTDRIVE_POLICY_DART
        case "cdpruner": FASTDRIVE_POLICY_CDPRUNER
        default: FASTDRIVE_POLICY_RANDOM
        }
    }

    /// Runs every expectation of `policy` on a handle with `maxTokens` and `threads` workers;
    /// returns how many ran.
    static func checkAgainstReference(_ policy: String, maxTokens: UInt32, threads: UInt32 = 1) -> Int {
        let (p, status, message) = create(model, maxTokens: maxTokens, threads: threads)
        #expect(status == FASTDRIVE_OK, "\(message)")
        defer { fastdrive_pruner_destroy(p) }
        var ran = 0
        for c in cases {
            let (tokens, aux) = load(c)
            for e in c.expect where e.policy == policy {
                var q = params(Self.policy(named: policy), k: e.k)
                q.important_ratio = e.ratio ?? 0
                q.seed = e.seed.flatMap { UInt64($0) } ?? 0
                q.relevance_theta = e.theta ?? 0
                q.image_pivots = e.image_pivots ?? 0
                q.text_pivots = e.text_pivots ?? 0
                let rows = e.pivot_rows == true ? pivots(c) : nil
                let (s, got) = select(p, tokens, n: c.n, params: q, aux: aux, pivotRows: rows)
                #expect(s == FASTDRIVE_OK, "\(c.name) \(policy) k=\(e.k): \(lastError(p))")
                #expect(got == e.indices, "\(c.name) \(policy) k=\(e.k) ratio=\(e.ratio ?? -1) seed=\(e.seed ?? "-") theta=\(e.theta ?? -1) pivots=\(e.image_pivots ?? -1)/\(e.text_pivots ?? -1)/\(e.pivot_rows ?? false)")
                ran += 1
            }
        }
        return ran
    }

    @Test("matches the NumPy reference on random and structured frames",
          arguments: ["divprune", "vispruner", "attention", "reconpruner_aux", "norm", "uniform", "random", "dart",
                      "cdpruner"])
    func matchesReference(policy: String) {
        #expect(Self.checkAgainstReference(policy, maxTokens: 512) > 20)
    }

    @Test("the diversity policies' passes split over 2 and 3 workers give the same indices",
          arguments: ["divprune", "vispruner", "dart", "cdpruner"], [UInt32(2), 3])
    func matchesReferenceOnWorkers(policy: String, threads: UInt32) {
        #expect(Self.checkAgainstReference(policy, maxTokens: 512, threads: threads) > 20)
    }

    @Test("VisPruner without the planned cosine matrix (max_tokens above the cap) gives the same sets")
    func visPrunerWithoutMatrix() {
        #expect(Self.checkAgainstReference("vispruner", maxTokens: UInt32(SelectionScratch.similarityCap + 1)) > 20)
    }

    @Test("CDPRUNER needs the planned similarity matrix: max_tokens above the cap is CAPACITY")
    func cdPrunerCapacity() {
        let (p, _, _) = create(Self.model, maxTokens: UInt32(SelectionScratch.similarityCap + 1))
        defer { fastdrive_pruner_destroy(p) }
        let (s, out) = Self.select(p, TestModel.tokens(10), n: 10, params: Self.params(FASTDRIVE_POLICY_CDPRUNER, k: 3),
                                   aux: [Float](repeating: 1, count: 10))
        #expect(s == FASTDRIVE_ERR_CAPACITY && lastError(p).contains("max_tokens <= 4096"), "\(lastError(p))")
        #expect(out.allSatisfy { $0 == -7 })
    }

    @Test("a 1.0 caller (struct_size 48) gets the 1.1 fields' defaults, whatever lies past its struct")
    func oldParamsDefaults() {
        let (p, _, _) = create(Self.model, maxTokens: 64)
        defer { fastdrive_pruner_destroy(p) }
        let tokens = TestModel.tokens(40), aux = (0..<40).map { Float(($0 * 7) % 11) }
        for policy in [FASTDRIVE_POLICY_DART, FASTDRIVE_POLICY_CDPRUNER] {
            let (s1, expected) = Self.select(p, tokens, n: 40, params: Self.params(policy, k: 9), aux: aux)
            var q = Self.params(policy, k: 9)
            q.struct_size = 48
            q.image_pivots = -5                          // past a 1.0 struct: must not be read
            q.text_pivots = 99
            q.relevance_theta = 7
            let (s2, got) = Self.select(p, tokens, n: 40, params: q, aux: aux)
            #expect(s1 == FASTDRIVE_OK && s2 == FASTDRIVE_OK, "\(lastError(p))")
            #expect(got == expected)
        }
    }

    @Test("RECONPRUNER without aux equals score followed by top-K")
    func reconPrunerScores() {
        let (p, _, _) = create(Self.model, maxTokens: 64)
        defer { fastdrive_pruner_destroy(p) }
        let n = 48
        let tokens = TestModel.tokens(n)
        let (s1, scores) = score(p, tokens, n: n, dim: Self.dim, grid: (6, 8))
        #expect(s1 == FASTDRIVE_OK)
        for k in [1, 7, 24, 47, 48] {
            let (s2, got) = Self.select(p, tokens, n: n, grid: (6, 8), params: Self.params(FASTDRIVE_POLICY_RECONPRUNER, k: k))
            #expect(s2 == FASTDRIVE_OK, "\(lastError(p))")
            #expect(got.map(Int.init) == referenceTopK(scores, k), "k = \(k)")
        }
    }

    @Test("UNIFORM and RANDOM read only the shape; DIVPRUNE needs no grid even under rope=mrope")
    func shapeOnlyPolicies() {
        let (p, _, _) = create(Self.model, maxTokens: 64)
        defer { fastdrive_pruner_destroy(p) }
        var tokens = TestModel.tokens(10)
        tokens[5] = .nan
        let (s1, u) = Self.select(p, tokens, n: 10, params: Self.params(FASTDRIVE_POLICY_UNIFORM, k: 3))
        #expect(s1 == FASTDRIVE_OK && u == [1, 5, 8])
        let (s2, _) = Self.select(p, tokens, n: 10, params: Self.params(FASTDRIVE_POLICY_RANDOM, k: 3))
        #expect(s2 == FASTDRIVE_OK)
        let (s3, d) = Self.select(p, TestModel.tokens(10), n: 10, params: Self.params(FASTDRIVE_POLICY_DIVPRUNE, k: 4))
        #expect(s3 == FASTDRIVE_OK && d.count == 4 && d == d.sorted())
    }

    @Test("a newer, larger params struct is read up to our size")
    func paramsGrowth() {
        let (p, _, _) = create(Self.model, maxTokens: 64)
        defer { fastdrive_pruner_destroy(p) }
        let size = MemoryLayout<fastdrive_select_params>.size
        var bigger = [UInt8](repeating: 0xAB, count: size + 16)   // a future field, non-zero
        var q = Self.params(FASTDRIVE_POLICY_UNIFORM, k: 4)
        q.struct_size = UInt32(size + 16)
        withUnsafeBytes(of: q) { src in bigger.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
        let tokens = TestModel.tokens(10)
        var out = [Int64](repeating: -1, count: 4)
        let status = tokens.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: 10, dim: 32,
                                        row_stride: 0, grid_h: 0, grid_w: 0)
            return bigger.withUnsafeBytes { fastdrive_select(p, &view, $0.baseAddress!.assumingMemoryBound(to: fastdrive_select_params.self), &out) }
        }
        #expect(status == FASTDRIVE_OK && out == [1, 3, 6, 8])
    }

    /// One bad call: what to break, the status, and a phrase the message must contain.
    struct BadInput: CustomTestStringConvertible, Sendable {
        let name: String
        let status: fastdrive_status
        let message: String
        let policy: fastdrive_policy
        var k = 3
        var n = 10
        var dim = 32
        var structSize: UInt32? = nil
        var rawPolicy: UInt32? = nil
        var aux: [Float]? = nil
        var auxCount: Int64 = 0
        var ratio = 0.0
        var grid: (Int32, Int32) = (0, 0)
        var nanToken = false
        var theta = 0.0
        var imagePivots: Int64 = 0
        var textPivots: Int64 = 0
        /// DART host pivot rows: count, dim, and whether one value is NaN.
        var pivotRows: (n: Int, dim: Int, nan: Bool)? = nil
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "struct_size 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "struct_size = 0", policy: FASTDRIVE_POLICY_UNIFORM, structSize: 0),
        BadInput(name: "struct_size below 1.0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "struct_size = 40", policy: FASTDRIVE_POLICY_UNIFORM, structSize: 40),
        BadInput(name: "unknown policy 9", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "policy = 9", policy: FASTDRIVE_POLICY_UNIFORM, rawPolicy: 9),
        BadInput(name: "unknown policy 0xFFFFFFFF", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "policy = 4294967295", policy: FASTDRIVE_POLICY_UNIFORM, rawPolicy: .max),
        BadInput(name: "k = 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "k = 0", policy: FASTDRIVE_POLICY_DIVPRUNE, k: 0),
        BadInput(name: "k < 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "k = -2", policy: FASTDRIVE_POLICY_NORM, k: -2),
        BadInput(name: "k > n", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "k = 11", policy: FASTDRIVE_POLICY_RANDOM, k: 11),
        BadInput(name: "ATTENTION without aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "FASTDRIVE_POLICY_ATTENTION needs params->aux", policy: FASTDRIVE_POLICY_ATTENTION),
        BadInput(name: "VISPRUNER without aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "FASTDRIVE_POLICY_VISPRUNER needs params->aux", policy: FASTDRIVE_POLICY_VISPRUNER),
        BadInput(name: "aux_count != n", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "aux_count = 9", policy: FASTDRIVE_POLICY_ATTENTION, aux: [Float](repeating: 1, count: 10), auxCount: 9),
        BadInput(name: "aux_count != n for RECONPRUNER", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "aux_count = 11", policy: FASTDRIVE_POLICY_RECONPRUNER, aux: [Float](repeating: 1, count: 11), auxCount: 11),
        BadInput(name: "NaN in aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "aux[4] is NaN", policy: FASTDRIVE_POLICY_VISPRUNER, aux: [0, 1, 2, 3, .nan, 5, 6, 7, 8, 9]),
        BadInput(name: "important_ratio > 1", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "important_ratio = 1.5", policy: FASTDRIVE_POLICY_VISPRUNER, aux: [Float](repeating: 1, count: 10), ratio: 1.5),
        BadInput(name: "important_ratio < 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "important_ratio = -0.5", policy: FASTDRIVE_POLICY_VISPRUNER, aux: [Float](repeating: 1, count: 10), ratio: -0.5),
        BadInput(name: "important_ratio NaN", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "important_ratio = nan", policy: FASTDRIVE_POLICY_VISPRUNER, aux: [Float](repeating: 1, count: 10), ratio: .nan),
        BadInput(name: "tokens dim != hidden size", status: FASTDRIVE_ERR_SHAPE, message: "dim = 16", policy: FASTDRIVE_POLICY_UNIFORM, dim: 16),
        BadInput(name: "grid that does not hold n", status: FASTDRIVE_ERR_SHAPE, message: "grid 3×4", policy: FASTDRIVE_POLICY_DIVPRUNE, grid: (3, 4)),
        BadInput(name: "RECONPRUNER scoring needs the grid under mrope", status: FASTDRIVE_ERR_SHAPE, message: "mrope", policy: FASTDRIVE_POLICY_RECONPRUNER),
        BadInput(name: "more tokens than max_tokens", status: FASTDRIVE_ERR_CAPACITY, message: "max_tokens = 16", policy: FASTDRIVE_POLICY_NORM, n: 17),
        BadInput(name: "NaN token for DIVPRUNE", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_DIVPRUNE, nanToken: true),
        BadInput(name: "NaN token for NORM", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_NORM, nanToken: true),
        BadInput(name: "NaN token for VISPRUNER", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_VISPRUNER, aux: [Float](repeating: 1, count: 10), nanToken: true),
        BadInput(name: "CDPRUNER without aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "FASTDRIVE_POLICY_CDPRUNER needs params->aux", policy: FASTDRIVE_POLICY_CDPRUNER),
        BadInput(name: "NaN in CDPRUNER's aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "aux[3] is NaN", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [0, 1, 2, .nan, 4, 5, 6, 7, 8, 9]),
        BadInput(name: "Inf in CDPRUNER's aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "aux[6] = inf", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [0, 1, 2, 3, 4, 5, .infinity, 7, 8, 9]),
        BadInput(name: "-Inf in CDPRUNER's aux", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "must be finite", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [-.infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        BadInput(name: "relevance_theta > 1", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "relevance_theta = 1.5", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [Float](repeating: 1, count: 10), theta: 1.5),
        BadInput(name: "relevance_theta < 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "relevance_theta = -0.25", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [Float](repeating: 1, count: 10), theta: -0.25),
        BadInput(name: "relevance_theta NaN", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "relevance_theta = nan", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [Float](repeating: 1, count: 10), theta: .nan),
        BadInput(name: "relevance_theta Inf", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "relevance_theta = inf", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [Float](repeating: 1, count: 10), theta: .infinity),
        BadInput(name: "NaN token for CDPRUNER", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_CDPRUNER, aux: [Float](repeating: 1, count: 10), nanToken: true),
        BadInput(name: "NaN token for DART", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_DART, nanToken: true),
        BadInput(name: "DART image_pivots > k", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "image_pivots = 4 exceeds k = 3", policy: FASTDRIVE_POLICY_DART, imagePivots: 4),
        BadInput(name: "DART image_pivots > n", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "image_pivots = 11", policy: FASTDRIVE_POLICY_DART, k: 10, imagePivots: 11),
        BadInput(name: "DART image_pivots < 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "image_pivots = -1 is negative", policy: FASTDRIVE_POLICY_DART, imagePivots: -1),
        BadInput(name: "DART text_pivots < 0", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "text_pivots = -3 is negative", policy: FASTDRIVE_POLICY_DART, textPivots: -3, pivotRows: (4, 32, false)),
        BadInput(name: "DART text_pivots without pivot rows", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "pivot_rows is NULL", policy: FASTDRIVE_POLICY_DART, textPivots: 2),
        BadInput(name: "DART text_pivots > pivot rows", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "text_pivots = 5 exceeds pivot_rows->n_tokens = 4", policy: FASTDRIVE_POLICY_DART, textPivots: 5, pivotRows: (4, 32, false)),
        BadInput(name: "DART over 64 pivots", status: FASTDRIVE_ERR_INVALID_ARGUMENT, message: "exceed 64", policy: FASTDRIVE_POLICY_DART, k: 10, imagePivots: 10, textPivots: 55, pivotRows: (60, 32, false)),
        BadInput(name: "DART pivot rows of another dim", status: FASTDRIVE_ERR_SHAPE, message: "pivot_rows->dim = 16", policy: FASTDRIVE_POLICY_DART, pivotRows: (4, 16, false)),
        BadInput(name: "DART more pivot rows than max_tokens", status: FASTDRIVE_ERR_CAPACITY, message: "pivot_rows", policy: FASTDRIVE_POLICY_DART, pivotRows: (17, 32, false)),
        BadInput(name: "DART NaN in a pivot row", status: FASTDRIVE_ERR_NON_FINITE, message: "pivot_rows row 1", policy: FASTDRIVE_POLICY_DART, pivotRows: (3, 32, true)),
        BadInput(name: "NaN token for RECONPRUNER scoring", status: FASTDRIVE_ERR_NON_FINITE, message: "token 2", policy: FASTDRIVE_POLICY_RECONPRUNER, grid: (2, 5), nanToken: true),
    ]

    @Test("bad input: the status, a message naming the argument, indices untouched", arguments: badInputs)
    func badInput(_ b: BadInput) {
        let (p, _, _) = create(Self.model, maxTokens: 16)
        defer { fastdrive_pruner_destroy(p) }
        var q = Self.params(b.policy, k: b.k)
        if let size = b.structSize { q.struct_size = size }
        if let raw = b.rawPolicy { q.policy = fastdrive_policy(rawValue: raw) }
        q.aux_count = b.auxCount
        q.important_ratio = b.ratio
        q.relevance_theta = b.theta
        q.image_pivots = b.imagePivots
        q.text_pivots = b.textPivots
        var tokens = TestModel.tokens(b.n, dim: b.dim)
        if b.nanToken { tokens[2 * b.dim + 1] = .nan }
        var rows: [Float]?
        if let r = b.pivotRows {
            rows = TestModel.tokens(r.n, dim: r.dim)
            if r.nan { rows![r.dim + 5] = .nan }
        }
        let (status, out) = Self.select(p, tokens, n: b.n, dim: b.dim, grid: b.grid, params: q, aux: b.aux,
                                        pivotRows: rows, pivotDim: b.pivotRows?.dim ?? Self.dim, outCount: 12)
        #expect(status == b.status, "\(lastError(p))")
        #expect(lastError(p).hasPrefix("fastdrive_select: ") && lastError(p).contains(b.message), "\(lastError(p))")
        #expect(out.allSatisfy { $0 == -7 })
    }

    @Test("NULL handle, tokens, params, indices or data are INVALID_ARGUMENT")
    func nullArguments() {
        let (p, _, _) = create(Self.model, maxTokens: 16)
        defer { fastdrive_pruner_destroy(p) }
        let tokens = TestModel.tokens(4)
        var q = Self.params(FASTDRIVE_POLICY_UNIFORM, k: 2)
        var out = [Int64](repeating: -7, count: 2)
        tokens.withUnsafeBytes { raw in
            var view = fastdrive_tokens(data: raw.baseAddress, dtype: FASTDRIVE_F32, n_tokens: 4, dim: 32,
                                        row_stride: 0, grid_h: 0, grid_w: 0)
            #expect(fastdrive_select(nil, &view, &q, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(lastError(nil).contains("p is NULL"))
            #expect(fastdrive_select(p, nil, &q, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(lastError(p).contains("tokens is NULL"))
            #expect(fastdrive_select(p, &view, nil, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(lastError(p).contains("params is NULL"))
            #expect(fastdrive_select(p, &view, &q, nil) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(lastError(p).contains("indices is NULL"))
            view.data = nil
            #expect(fastdrive_select(p, &view, &q, &out) == FASTDRIVE_ERR_INVALID_ARGUMENT)
            #expect(lastError(p).contains("tokens->data is NULL"))
        }
        #expect(out.allSatisfy { $0 == -7 })
    }

    @Test("SplitMix64 and UNIFORM by hand")
    func generators() {
        var g = SplitMix64(state: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)   // Vigna's splitmix64.c, seed 0
        var out = [Int64](repeating: 0, count: 3)
        out.withUnsafeMutableBufferPointer { Uniform.select(n: 10, k: 3, into: IndexBuffer(base: $0.baseAddress!, count: 3)) }
        #expect(out == [1, 5, 8])
    }
}
