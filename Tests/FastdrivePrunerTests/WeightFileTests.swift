// WeightFileTests.swift — the pruner rules of docs/weight-file.md after the safetensors ones: config, names, shapes, values.

import CFastdrivePruner
import Foundation
import Testing
@testable import FastdrivePruner

@Suite("weight file")
struct WeightFileTests {
    func expectCreateFails(_ path: String, _ status: fastdrive_status, _ fragment: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let (p, s, message) = create(path)
        #expect(p == nil, sourceLocation: sourceLocation)
        #expect(s == status, "status \(s.rawValue): \(message)", sourceLocation: sourceLocation)
        #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
    }

    func metadata(_ edit: (inout [(key: String, value: String)]) -> Void) -> [(key: String, value: String)] {
        var m = TestModel.config.metadata
        edit(&m)
        return m
    }

    func set(_ key: String, _ value: String) -> [(key: String, value: String)] {
        metadata { m in m = m.map { ($0.key, $0.key == key ? value : $0.value) } }
    }

    @Test("loads F32, F16 and BF16 files and reports the config")
    func loadsEveryDType() throws {
        for dtype in ElementType.allCases {
            let (p, status, message) = create(TestModel.file(dtype: dtype))
            #expect(status == FASTDRIVE_OK, "\(dtype): \(message)")
            var info = fastdrive_pruner_info()
            info.struct_size = UInt32(MemoryLayout<fastdrive_pruner_info>.size)
            #expect(fastdrive_pruner_describe(p, &info) == FASTDRIVE_OK)
            #expect(info.hidden_size == 32 && info.num_attention_heads == 4 && info.num_key_value_heads == 2)
            #expect(info.parameter_count == Int64(TestModel.config.parameterCount))
            #expect(info.rope == FASTDRIVE_ROPE_MROPE && info.mrope_section == (1, 1, 2))
            fastdrive_pruner_destroy(p)
        }
    }

    @Test("a missing file and a directory are I/O errors")
    func ioErrors() {
        expectCreateFails("/nonexistent/pruner.safetensors", FASTDRIVE_ERR_IO, "cannot open")
        expectCreateFails(FileManager.default.temporaryDirectory.path, FASTDRIVE_ERR_IO, "not a regular file")
    }

    @Test("a file truncated anywhere is a format error")
    func truncatedAnywhere() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestModel.file())))
        for cut in [0, 4, 8, 9, 100, bytes.count / 2, bytes.count - 1] {
            let (p, s, message) = create(TestFiles.write(Array(bytes.prefix(cut))))
            #expect(p == nil && s == FASTDRIVE_ERR_FORMAT, "cut at \(cut): \(message)")
        }
    }

    @Test("format name and version are required and checked")
    func formatKeys() {
        expectCreateFails(TestModel.file(metadata: set("format", "gguf")), FASTDRIVE_ERR_FORMAT, "'format' is 'gguf'")
        expectCreateFails(TestModel.file(metadata: set("format_version", "2")), FASTDRIVE_ERR_FORMAT, "format_version '2'")
        expectCreateFails(TestModel.file(metadata: metadata { $0.removeAll { $0.key == "format" } }), FASTDRIVE_ERR_FORMAT, "missing metadata key 'format'")
    }

    @Test("numbers must be plain decimal strings", arguments: ["12a", "", "-4", "0x20", "3.5", " 32"])
    func badNumbers(_ text: String) {
        expectCreateFails(TestModel.file(metadata: set("hidden_size", text)), FASTDRIVE_ERR_FORMAT, "hidden_size")
    }

    @Test("eps and theta must be positive finite decimals", arguments: ["nan", "inf", "-1e-6", "0", "1e-6x"])
    func badReals(_ text: String) {
        expectCreateFails(TestModel.file(metadata: set("rms_norm_eps", text)), FASTDRIVE_ERR_FORMAT, "rms_norm_eps")
    }

    @Test("inconsistent head configs are rejected")
    func headConfigs() {
        expectCreateFails(TestModel.file(metadata: set("num_key_value_heads", "3")), FASTDRIVE_ERR_FORMAT, "not a multiple")
        expectCreateFails(TestModel.file(metadata: set("num_attention_heads", "8")), FASTDRIVE_ERR_FORMAT, "hidden_size")
        expectCreateFails(TestModel.file(metadata: set("mrope_section", "1,1,1")), FASTDRIVE_ERR_FORMAT, "sum to head_dim / 2")
        expectCreateFails(TestModel.file(metadata: set("mrope_section", "1,3")), FASTDRIVE_ERR_FORMAT, "three comma-separated")
        expectCreateFails(TestModel.file(metadata: set("rope", "2d")), FASTDRIVE_ERR_FORMAT, "'rope' = '2d'")
        expectCreateFails(TestModel.file(metadata: set("attention", "sliding")), FASTDRIVE_ERR_FORMAT, "'attention'")
        let oddHeadDim = metadata { m in
            m = m.map { ($0.key, $0.key == "head_dim" ? "1" : $0.key == "num_attention_heads" ? "32" : $0.value) }
        }
        expectCreateFails(TestModel.file(metadata: oddHeadDim), FASTDRIVE_ERR_FORMAT, "must be even")
    }

    @Test("a missing tensor is named")
    func missingTensor() {
        let t = TestModel.tensors().filter { $0.name != "scorer.bias" }
        expectCreateFails(TestModel.file(tensors: t), FASTDRIVE_ERR_FORMAT, "missing tensor 'scorer.bias'")
    }

    @Test("a shape that contradicts the config is named")
    func shapeMismatch() {
        var t = TestModel.tensors()
        let i = t.firstIndex { $0.name == "mlp.up_proj.weight" }!
        t[i] = NamedTensor(name: t[i].name, shape: [32, 64], values: t[i].values)
        expectCreateFails(TestModel.file(tensors: t), FASTDRIVE_ERR_FORMAT, "tensor 'mlp.up_proj.weight': shape [32, 64] != [64, 32]")
    }

    @Test("an unexpected tensor is rejected")
    func extraTensor() {
        let t = TestModel.tensors() + [NamedTensor(name: "decoder.head", shape: [2], values: [1, 2])]
        expectCreateFails(TestModel.file(tensors: t), FASTDRIVE_ERR_FORMAT, "unexpected tensor 'decoder.head'")
    }

    @Test("a tensor in a dtype the runtime cannot read is rejected")
    func unsupportedDType() throws {
        // Rewrite one tensor's dtype name in place: F32 → I32 keeps every size valid.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestModel.file())))
        let header = String(decoding: bytes[8..<8 + 400], as: UTF8.self)
        let range = header.range(of: #""query":{"dtype":"F32""#)!
        let offset = 8 + header.utf8.distance(from: header.startIndex, to: range.upperBound) - 4
        bytes[offset] = UInt8(ascii: "I")
        expectCreateFails(TestFiles.write(bytes), FASTDRIVE_ERR_FORMAT, "tensor 'query': dtype I32 is not F32, F16 or BF16")
    }

    @Test("non-finite weights are rejected at create")
    func nonFiniteWeights() {
        var t = TestModel.tensors()
        t[2].values[5] = .nan
        expectCreateFails(TestModel.file(tensors: t), FASTDRIVE_ERR_FORMAT, "element 5 is not finite")
    }

    @Test("missing optional keys take the full-size values")
    func defaultsAreFullSize() throws {
        let m = TestModel.config.metadata.filter { ["format", "format_version"].contains($0.key) }
        let c = try PrunerConfig(metadata: m)
        #expect(c == PrunerConfig.full)
        #expect(c.parameterCount == 77_081_089)
    }

    @Test("misaligned F32 tensors are copied, and score exactly like aligned ones")
    func misalignedTensors() throws {
        let aligned = TestModel.file()
        // Re-pad the header by 2 bytes: every tensor's file offset becomes 2 mod 4.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: aligned)))
        let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        bytes.insert(contentsOf: [0x20, 0x20], at: 8 + n)
        let newLength = UInt64(n + 2)
        for i in 0..<8 { bytes[i] = UInt8((newLength >> (8 * UInt64(i))) & 0xff) }
        let misaligned = TestFiles.write(bytes)
        let pruner = try Pruner(path: misaligned, options: PrunerOptions(maxTokens: 16, threads: 1))
        #expect(pruner.mappedWeightBytes == 0 && pruner.convertedWeightBytes > 0)
        let inPlace = try Pruner(path: aligned, options: PrunerOptions(maxTokens: 16, threads: 1))
        #expect(inPlace.convertedWeightBytes == 0 && inPlace.mappedWeightBytes > 0)

        let tokens = TestModel.tokens(12)
        let (pa, _, _) = create(aligned)
        let (pm, _, _) = create(misaligned)
        let a = score(pa, tokens, n: 12, dim: 32, grid: (3, 4))
        let b = score(pm, tokens, n: 12, dim: 32, grid: (3, 4))
        #expect(a.0 == FASTDRIVE_OK && b.0 == FASTDRIVE_OK)
        #expect(a.1 == b.1)
        fastdrive_pruner_destroy(pa)
        fastdrive_pruner_destroy(pm)
    }
}
