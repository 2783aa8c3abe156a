// WeightSet.swift — the SPEC §2 tensors of a pruner, checked against the config, as f32 views.

/// Every weight of the pruner as an f32 view. Aligned F32 tensors point into the file mapping
/// (zero copy); F16/BF16 or misaligned F32 tensors are converted once into `converted`, except,
/// under compute = bf16, the linear weights only the bf16 GEMM reads: those are packed straight
/// from a transient conversion.
struct WeightSet {
    let query: VectorView
    let inputNorm: VectorView
    let qProj: LinearWeight, qBias: VectorView
    let kProj: LinearWeight, kBias: VectorView
    let vProj: LinearWeight, vBias: VectorView
    let oProj: LinearWeight
    let postNorm: VectorView
    let gateProj: LinearWeight, upProj: LinearWeight, downProj: LinearWeight
    /// W_down in f32 whatever the compute type: the scorer's fold reads it by columns.
    let downProjF32: ConstMatrixView
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
    /// compute = bf16 also packs the seven linear weights once for the bf16 GEMM, tensor by
    /// tensor, and keeps no f32 copy that only fed the packing (see `LinearWeight.f32`).
    init(file: MappedFile, header: SafetensorsHeader, config: PrunerConfig, compute: ElementType = .f32) throws(PrunerError) {
        let expected = config.tensorShapes
        for t in header.tensors where !expected.contains(where: { $0.name == t.name }) {
            throw .format("unexpected tensor '\(t.name)' (not part of a format_version 1 pruner)")
        }
        let d = config.hiddenSize, q = config.heads * config.headDim, kv = config.kvHeads * config.headDim
        let i = config.intermediateSize
        // (tensor index in `expected`, rows, cols) of q, k, v, o, gate, up, down.
        let linearTensors = [(2, q, d), (4, kv, d), (6, kv, d), (8, d, q), (10, i, d), (11, i, d), (12, d, i)]
        let downTensor = 12
        // bf16: the slot of each linear tensor in the packed block. Every f32 view but W_down's
        // (the scorer's fold reads it by columns) is dead once its tensor is packed.
        var slot: [Int: Int] = [:]
        if compute == .bf16 { for (j, l) in linearTensors.enumerated() { slot[l.0] = j } }
        func packOnly(_ k: Int) -> Bool { slot[k] != nil && k != downTensor }

        var infos: [TensorInfo] = []
        var convertFloats = 0, transientFloats = 0
        for (k, (name, shape)) in expected.enumerated() {
            guard let t = header.tensor(named: name) else { throw .format("missing tensor '\(name)'") }
            guard let type = t.dtype.elementType else {
                throw .format("tensor '\(name)': dtype \(t.dtypeName) is not F32, F16 or BF16")
            }
            guard t.shape == shape else {
                throw .format("tensor '\(name)': shape \(t.shape) != \(shape) required by the config")
            }
            if !Self.usableInPlace(t, type: type, dataOffset: header.dataOffset) {
                let floats = Arena.footprint(floats: t.elementCount) / 4
                if packOnly(k) { transientFloats = max(transientFloats, floats) } else { convertFloats += floats }
            }
            infos.append(t)
        }
        let buffer = convertFloats > 0 ? try OwnedBuffer(floats: convertFloats) : nil
        // Pack-only tensors are converted one at a time into this, packed, and forgotten.
        let transient = transientFloats > 0 ? try OwnedBuffer(floats: transientFloats) : nil
        // bf16: one owned block holds every packed weight, each 64-byte aligned.
        var packedWeights: [PackedBF16Weight?] = Array(repeating: nil, count: linearTensors.count)
        var packedBuffer: OwnedBuffer?
        var packedOffsets: [Int] = []
        if compute == .bf16 {
            let sizes = linearTensors.map {
                Arena.footprint(floats: (Kernels.packedBF16Elements(rows: $0.1, cols: $0.2) + 1) / 2) / 4
            }
            packedBuffer = try OwnedBuffer(floats: sizes.reduce(0, +))
            packedOffsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        }
        var cursor = buffer?.floats
        var views: [UnsafePointer<Float>?] = []
        var mapped = 0, copied = 0
        for (k, t) in infos.enumerated() {
            let type = t.dtype.elementType!  // checked above
            let source = file.bytes.baseAddress! + header.dataOffset + t.begin
            let values: UnsafePointer<Float>
            let bad: Int?
            let inPlace = Self.usableInPlace(t, type: type, dataOffset: header.dataOffset)
            if inPlace {
                values = source.assumingMemoryBound(to: Float.self)
                bad = Kernels.firstNonFinite(values, count: t.elementCount)
                mapped += t.byteCount
            } else {
                let out = packOnly(k) ? transient!.floats : cursor!
                bad = Kernels.convertToF32(out: out, source: source, dtype: type, count: t.elementCount)
                if !packOnly(k) {
                    cursor = out + Arena.footprint(floats: t.elementCount) / 4
                    copied += t.elementCount * 4
                }
                values = UnsafePointer(out)
                // The file's bytes of a converted tensor are never read again.
                file.release(source, count: t.byteCount)
            }
            if let bad {
                throw .format("tensor '\(t.name)': element \(bad) is not finite (NaN or Inf)")
            }
            if let j = slot[k], let block = packedBuffer {
                let w = ConstMatrixView(base: values, rows: linearTensors[j].1, cols: linearTensors[j].2)
                let storage = UnsafeMutableRawPointer(block.floats + packedOffsets[j]).assumingMemoryBound(to: UInt16.self)
                packedWeights[j] = Kernels.packBF16(w, into: storage)
                // Hand a dead mapped copy's pages back now, so neither RSS nor its peak holds
                // both copies (the mapping stays valid; nothing reads it again).
                if inPlace && packOnly(k) { file.release(UnsafeRawPointer(values), count: t.byteCount) }
            }
            views.append(packOnly(k) && !inPlace ? nil : values)
        }
        func vec(_ k: Int, _ n: Int) -> VectorView { VectorView(base: views[k]!, count: n) }
        let linear = linearTensors.indices.map { j -> LinearWeight in
            let (k, rows, cols) = linearTensors[j]
            // A mapped tensor keeps its (released, re-faultable) view; a transient copy has none.
            return LinearWeight(f32: views[k].map { ConstMatrixView(base: $0, rows: rows, cols: cols) },
                                bf16: packedWeights[j], rows: rows, cols: cols)
        }
        query = vec(0, d)
        inputNorm = vec(1, d)
        qProj = linear[0]; qBias = vec(3, q)
        kProj = linear[1]; kBias = vec(5, kv)
        vProj = linear[2]; vBias = vec(7, kv)
        oProj = linear[3]
        postNorm = vec(9, d)
        gateProj = linear[4]; upProj = linear[5]; downProj = linear[6]
        downProjF32 = ConstMatrixView(base: views[downTensor]!, rows: d, cols: i)
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
