// SafetensorsHeaderTests.swift — one hand-built byte string per container rule of docs/weight-file.md,
// each test named after its rule.

import Testing
@testable import FastdrivePruner

@Suite("safetensors header rules")
struct SafetensorsHeaderTests {
    /// The safetensors crate's own test vector: N = 60 (0x3C), 16 data bytes.
    static let header = #"{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}"#
    static let data = [UInt8](repeating: 7, count: 16)

    func expectFormat(_ bytes: [UInt8], contains fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try TestFiles.parseHeader(bytes)
            Issue.record("accepted an invalid file; expected '\(fragment)'", sourceLocation: sourceLocation)
        } catch {
            guard case .format(let message) = error else {
                Issue.record("expected FORMAT, got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test("accepts the crate's test vector")
    func acceptsValid() throws {
        let h = try TestFiles.parseHeader(TestFiles.safetensors(header: Self.header, data: Self.data))
        #expect(h.headerLength == 60)
        #expect(h.tensors.count == 1)
        #expect(h.tensors[0].shape == [2, 2] && h.tensors[0].begin == 0 && h.tensors[0].end == 16)
    }

    @Test("header-too-small: rejects a file shorter than 8 bytes, the empty file included")
    func rejectsHeaderTooSmall() {
        expectFormat([], contains: "too small")
        expectFormat([1, 2, 3], contains: "too small")
    }

    @Test("header-too-large: rejects a header length over 100 MB before reading it")
    func rejectsHeaderTooLarge() {
        let bytes: [UInt8] = [0x3C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF] + Array(Self.header.utf8) + Self.data
        expectFormat(bytes, contains: "exceeds")
    }

    @Test("header-past-end: rejects a header length that runs past the end of the file")
    func rejectsInvalidHeaderLength() {
        expectFormat(TestFiles.safetensors(header: "", data: [], declaredLength: 60), contains: "past the end")
        expectFormat(TestFiles.safetensors(header: Self.header, data: [], declaredLength: 1000), contains: "past the end")
    }

    @Test("header-utf8: rejects a header that is not UTF-8")
    func rejectsInvalidUTF8() {
        var h = Array(Self.header.utf8)
        h[10] = 0xFF
        expectFormat(withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + Self.data, contains: "UTF-8")
    }

    @Test("header-json-object: rejects JSON that is unterminated, not an object, padded with NUL, or followed by junk")
    func rejectsInvalidJSON() {
        expectFormat(TestFiles.safetensors(header: "{", data: []), contains: "JSON")
        expectFormat(TestFiles.safetensors(header: "[1,2]", data: []), contains: "must be a JSON object")
        expectFormat(TestFiles.safetensors(header: "{}\u{0}", data: []), contains: "JSON")
        expectFormat(TestFiles.safetensors(header: "{} x", data: []), contains: "JSON")
        expectFormat(TestFiles.safetensors(header: String(repeating: "[", count: 100_000), data: []), contains: "nested deeper")
    }

    @Test("header-json-object: accepts JSON whitespace on both sides and no tensors")
    func acceptsWhitespacePadding() throws {
        let h = try TestFiles.parseHeader(TestFiles.safetensors(header: "\t\n{}\r ", data: []))
        #expect(h.tensors.isEmpty && h.headerLength == 6)
    }

    @Test("duplicate-key: rejects duplicate top-level keys")
    func rejectsDuplicateKeys() {
        let t = #""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#
        expectFormat(TestFiles.safetensors(header: "{\(t),\(t)}", data: [0]), contains: "duplicate key 'a'")
    }

    @Test("metadata-strings: rejects __metadata__ that is not string to string")
    func rejectsMetadataNotStrings() {
        expectFormat(TestFiles.safetensors(header: #"{"__metadata__":{"hidden_size":2048}}"#, data: []), contains: "must be a string")
        expectFormat(TestFiles.safetensors(header: #"{"__metadata__":[1]}"#, data: []), contains: "__metadata__ must be an object")
    }

    @Test("tensor-entry: rejects tensor entries with missing or mistyped fields")
    func rejectsBadTensorEntry() {
        expectFormat(TestFiles.safetensors(header: #"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, data: [0]), contains: "missing field 'dtype'")
        expectFormat(TestFiles.safetensors(header: #"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, data: [0]), contains: "non-negative integers")
        expectFormat(TestFiles.safetensors(header: #"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, data: [0]), contains: "non-negative integers")
        expectFormat(TestFiles.safetensors(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, data: [0]), contains: "2 integers")
        expectFormat(TestFiles.safetensors(header: #"{"a":[]}"#, data: []), contains: "must be an object")
    }

    @Test("known-dtype: rejects an unknown dtype name")
    func rejectsUnknownDType() {
        expectFormat(TestFiles.safetensors(header: #"{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), contains: "unknown dtype 'F31'")
    }

    @Test("contiguous-offsets: rejects overlapping offsets, a gap, and a non-zero first offset")
    func rejectsInvalidOffset() {
        let overlap = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
        expectFormat(TestFiles.safetensors(header: overlap, data: [0, 0, 0]), contains: "gap or overlap")
        let first = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
        expectFormat(TestFiles.safetensors(header: first, data: [0, 0, 0]), contains: "gap or overlap")
    }

    @Test("contiguous-offsets: accepts tensors listed out of data order")
    func acceptsOutOfOrderListing() throws {
        let h = #"{"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        let parsed = try TestFiles.parseHeader(TestFiles.safetensors(header: h, data: [0, 0, 0, 0]))
        #expect(parsed.tensors.map(\.name) == ["a", "b"])
    }

    @Test("shape-overflow: rejects a shape whose element count overflows")
    func rejectsShapeProductOverflow() {
        let h = #"{"a":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}}"#
        expectFormat(TestFiles.safetensors(header: h, data: Self.data), contains: "non-negative integers")
        let h2 = #"{"a":{"dtype":"I32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#
        expectFormat(TestFiles.safetensors(header: h2, data: Self.data), contains: "overflows")
    }

    @Test("whole-bytes: rejects a sub-byte tensor that is not a whole number of bytes")
    func rejectsMisalignedSlice() {
        expectFormat(TestFiles.safetensors(header: #"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}"#, data: [0]), contains: "whole number of bytes")
    }

    @Test("span-matches-shape: rejects a byte span that does not match shape × dtype")
    func rejectsTensorInvalidInfo() {
        let h = #"{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,4]}}"#
        expectFormat(TestFiles.safetensors(header: h, data: [0, 0, 0, 0]), contains: "span 4 bytes")
    }

    @Test("no-trailing-bytes: rejects trailing bytes and missing data")
    func rejectsIncompleteBuffer() {
        expectFormat(TestFiles.safetensors(header: Self.header, data: Self.data + Self.data), contains: "trailing bytes")
        expectFormat(TestFiles.safetensors(header: Self.header, data: Array(Self.data.dropLast(2))), contains: "needs")
    }

    @Test("accepts zero-sized and rank-0 tensors")
    func acceptsZeroSizedTensor() throws {
        let h = #"{"a":{"dtype":"I32","shape":[2,0],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#
        let parsed = try TestFiles.parseHeader(TestFiles.safetensors(header: h, data: [0, 0, 0, 0]))
        #expect(parsed.tensors.count == 2)
    }

    @Test("JSON strings: escapes and surrogate pairs decode; lone surrogates are rejected")
    func jsonStrings() throws {
        let h = try TestFiles.parseHeader(TestFiles.safetensors(
            header: #"{"__metadata__":{"k\u00e9":"a\"b\\c\/\n\ud83d\ude00"}}"#, data: []))
        #expect(h.metadataValue("ké") == "a\"b\\c/\n😀")
        expectFormat(TestFiles.safetensors(header: #"{"__metadata__":{"k":"\ud83d"}}"#, data: []), contains: "surrogate")
        expectFormat(TestFiles.safetensors(header: "{\"__metadata__\":{\"k\":\"a\u{1}\"}}", data: []), contains: "control character")
    }
}
