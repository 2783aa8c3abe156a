// WeightSet.swift — the SPEC §2 tensors of a pruner, checked against the config, as f32 views.

/// Every weight of the pruner as an f32 view. Aligned F32 tensors point into the file mapping
/// (zero copy); F16/BF16 or misaligned F32 tensors are converted once into `converted`.
struct WeightSet {
    let query: VectorView
    let inputNorm: VectorView
    let qProj: ConstMatrixView, qBias: VectorView
    let kProj: ConstMatrixView, kBias: VectorView
    let vProj: ConstMatrixView, vBias: VectorView
    let oProj: ConstMatrixView
    let postNorm: VectorView
    let gateProj: ConstMatrixView, upProj: ConstMatrixView, downProj: ConstMatrixView
    let scorer: VectorView
    let scorerBias: Float

    /// Bytes of tensors used in place from the mapping, and bytes converted into owned memory.
    let mappedBytes: Int
    let convertedBytes: Int

    /// Keeps the mapping and the converted copies alive as long as the views.
    private let file: MappedFile
    private let converted: OwnedBuffer?

    /// Resolves and checks every SPEC tensor (project checks 3 and 4, then finite values).
    init(file: MappedFile, header: SafetensorsHeader, config: PrunerConfig) throws(PrunerError) {
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
        query = vec(0, d)
        inputNorm = vec(1, d)
        qProj = mat(2, q, d); qBias = vec(3, q)
        kProj = mat(4, kv, d); kBias = vec(5, kv)
        vProj = mat(6, kv, d); vBias = vec(7, kv)
        oProj = mat(8, d, q)
        postNorm = vec(9, d)
        gateProj = mat(10, i, d); upProj = mat(11, i, d); downProj = mat(12, d, i)
        scorer = vec(13, d)
        scorerBias = vec(14, 1)[0]
        mappedBytes = mapped
        convertedBytes = copied
        self.file = file
        self.converted = buffer
    }

    /// An F32 tensor whose file offset is 4-byte aligned can be read in place; the format does
    /// not promise alignment, and a misaligned Float pointer must never be dereferenced.
    private static func usableInPlace(_ t: TensorInfo, type: ElementType, dataOffset: Int) -> Bool {
        type == .f32 && (dataOffset + t.begin) % MemoryLayout<Float>.alignment == 0
    }
}
