// WeightSet.swift — the SPEC §2 tensors of a pruner, checked against the config, as f32 views.

/// Every weight of the pruner as an f32 view. Aligned F32 tensors point into the file mapping
/// (zero copy); F16/BF16 or misaligned F32 tensors are converted once into `converted`.
struct WeightSet {
    let query: VectorView
    let inputNorm: VectorView
    let qProj: LinearWeight, qBias: VectorView
    let kProj: LinearWeight, kBias: VectorView
    let vProj: LinearWeight, vBias: VectorView
    let oProj: LinearWeight
    let postNorm: VectorView
    let gateProj: LinearWeight, upProj: LinearWeight, downProj: LinearWeight
    let scorer: VectorView
    let scorerBias: Float

    /// Bytes of tensors used in place from the mapping, bytes converted into owned f32, and
    /// bytes of the bf16-packed linear weights (compute = bf16).
    let mappedBytes: Int
    let convertedBytes: Int
    let packedBytes: Int

    /// Keeps the mapping and the converted copies alive as long as the views.
    private let file: MappedFile
    private let converted: OwnedBuffer?
    private let packed: OwnedBuffer?

    /// Resolves and checks every SPEC tensor (project checks 3 and 4, then finite values); with
    /// compute = bf16 also converts and packs the seven linear weights once for the bf16 GEMM.
    init(file: MappedFile, header: SafetensorsHeader, config: PrunerConfig, compute: ElementType = .f32) throws(PrunerError) {
        let expected = config.tensorShapes
        for t in header.tensors where !expected.contains(where: { $0.name == t.name }) {
            throw .format("unexpected tensor '\(t.name)' (not part of a format_version 1 pruner)")
        }
        var infos: [TensorInfo] = []
        var convertFloats = 0
        for (name, shape) in expected {
            guard let t = header.tensor(named: name) else { throw .format("missing tensor '\(name)'") }
            guard let type = t.dtype.elementType else {
                throw .format("tensor '\(name)': dtype \(t.dtypeName) is not F32, F16 or BF16")
            }
            guard t.shape == shape else {
                throw .format("tensor '\(name)': shape \(t.shape) != \(shape) required by the config")
            }
            if !Self.usableInPlace(t, type: type, dataOffset: header.dataOffset) {
                convertFloats += Arena.footprint(floats: t.elementCount) / 4
            }
            infos.append(t)
        }
        let buffer = convertFloats > 0 ? try OwnedBuffer(floats: convertFloats) : nil
        var cursor = buffer?.floats
        var views: [UnsafePointer<Float>] = []
        var mapped = 0, copied = 0
        for t in infos {
            let type = t.dtype.elementType!  // checked above
            let source = file.bytes.baseAddress! + header.dataOffset + t.begin
            let view: UnsafePointer<Float>
            let bad: Int?
            if Self.usableInPlace(t, type: type, dataOffset: header.dataOffset) {
                view = source.assumingMemoryBound(to: Float.self)
                bad = Kernels.firstNonFinite(view, count: t.elementCount)
                mapped += t.byteCount
            } else {
                let out = cursor!
                bad = Kernels.convertToF32(out: out, source: source, dtype: type, count: t.elementCount)
                cursor = out + Arena.footprint(floats: t.elementCount) / 4
                view = UnsafePointer(out)
                copied += t.elementCount * 4
            }
            if let bad {
                throw .format("tensor '\(t.name)': element \(bad) is not finite (NaN or Inf)")
            }
            views.append(view)
        }
        let d = config.hiddenSize, q = config.heads * config.headDim, kv = config.kvHeads * config.headDim
        let i = config.intermediateSize
        func vec(_ k: Int, _ n: Int) -> VectorView { VectorView(base: views[k], count: n) }
        func mat(_ k: Int, _ r: Int, _ c: Int) -> ConstMatrixView { ConstMatrixView(base: views[k], rows: r, cols: c) }
        let linears = [(2, q, d), (4, kv, d), (6, kv, d), (8, d, q), (10, i, d), (11, i, d), (12, d, i)]
            .map { mat($0.0, $0.1, $0.2) }
        // bf16: one owned block holds every packed weight, each 64-byte aligned.
        var packedWeights: [PackedBF16Weight?] = Array(repeating: nil, count: linears.count)
        var packedBuffer: OwnedBuffer?
        if compute == .bf16 {
            let sizes = linears.map { Arena.footprint(floats: (Kernels.packedBF16Elements(rows: $0.rows, cols: $0.cols) + 1) / 2) / 4 }
            let buffer = try OwnedBuffer(floats: sizes.reduce(0, +))
            var cursor = UnsafeMutableRawPointer(buffer.floats)
            for (j, w) in linears.enumerated() {
                packedWeights[j] = Kernels.packBF16(w, into: cursor.assumingMemoryBound(to: UInt16.self))
                cursor += sizes[j] * 4
            }
            packedBuffer = buffer
        }
        let linear = linears.indices.map { LinearWeight(f32: linears[$0], bf16: packedWeights[$0]) }
        query = vec(0, d)
        inputNorm = vec(1, d)
        qProj = linear[0]; qBias = vec(3, q)
        kProj = linear[1]; kBias = vec(5, kv)
        vProj = linear[2]; vBias = vec(7, kv)
        oProj = linear[3]
        postNorm = vec(9, d)
        gateProj = linear[4]; upProj = linear[5]; downProj = linear[6]
        scorer = vec(13, d)
        scorerBias = vec(14, 1)[0]
        mappedBytes = mapped
        convertedBytes = copied
        packedBytes = (packedBuffer?.count ?? 0) * 4
        self.file = file
        self.converted = buffer
        self.packed = packedBuffer
    }

    /// An F32 tensor whose file offset is 4-byte aligned can be read in place; the format does
    /// not promise alignment, and a misaligned Float pointer must never be dereferenced.
    private static func usableInPlace(_ t: TensorInfo, type: ElementType, dataOffset: Int) -> Bool {
        type == .f32 && (dataOffset + t.begin) % MemoryLayout<Float>.alignment == 0
    }
}
