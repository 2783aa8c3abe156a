// WeightSet.swift — the tensors of a weight file, checked against the config, as views by name.

/// Every weight of the pruner as an f32 view, or as a linear weight with its packed copy.
/// Aligned F32 tensors point into the file (zero copy); F16/BF16 or misaligned F32 tensors are
/// converted once into `converted`. A compute type with its own matrix kernel also gets each
/// linear weight packed (Kernels/Linear.swift); a converted tensor nothing reads in f32 is then
/// packed straight from a transient conversion and not kept (docs/weight-file.md, "How tensors
/// are used").
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

    /// Bytes of tensors used in place from the file, bytes converted into owned f32, and bytes
    /// of packed linear weights.
    let mappedBytes: Int
    let convertedBytes: Int
    let packedBytes: Int

    /// Keeps the file's bytes and the converted and packed copies alive as long as the views.
    private let file: any FileBytes
    private let converted: OwnedBuffer?
    private let packed: OwnedBuffer?

    /// Whether the model reads tensor `name` in f32 under `compute`. Linear weights with a
    /// packed copy are read only through it, except W_down, which the scorer's fold reads by
    /// columns (a layout the packed copy does not serve).
    static func readsF32(_ name: TensorName, compute: ComputeType) -> Bool {
        !name.isLinearWeight || !Kernels.packsWeights(compute) || name == .downProj
    }

    /// Resolves and checks every tensor of TensorName's table: rules unexpected-tensor, then
    /// missing-tensor, weight-dtype and tensor-shape in table order, converted-weights-fit, and
    /// finite-weights (docs/weight-file.md). Packs the linear weights for `compute`, tensor by
    /// tensor, releasing each file copy nothing reads again.
    init(file: any FileBytes, header: SafetensorsHeader, config: PrunerConfig, compute: ComputeType = .f32,
         host: ControlGroup = .host) throws(PrunerError) {
        // unexpected-tensor
        for t in header.tensors where TensorName(rawValue: t.name) == nil {
            throw .format("unexpected tensor '\(t.name)' (not part of a format_version 1 pruner)")
        }
        // missing-tensor, weight-dtype, tensor-shape; and the sizes of the copies to make.
        var found: [(name: TensorName, info: TensorInfo, type: ElementType)] = []
        var convertFloats = 0, transientFloats = 0, packFloats = 0
        for name in TensorName.allCases {
            guard let t = header.tensor(named: name.rawValue) else { throw .format("missing tensor '\(name.rawValue)'") }
            guard let type = t.dtype.elementType else {
                throw .format("tensor '\(name.rawValue)': dtype \(t.dtypeName) is not F32, F16 or BF16")
            }
            let shape = name.shape(config)
            guard t.shape == shape else {
                throw .format("tensor '\(name.rawValue)': shape \(t.shape) != \(shape) required by the config")
            }
            if !Self.usableInPlace(t, type: type, dataOffset: header.dataOffset) {
                let floats = Arena.footprint(floats: t.elementCount) / 4
                if Self.readsF32(name, compute: compute) { convertFloats += floats } else { transientFloats = max(transientFloats, floats) }
            }
            if name.isLinearWeight {
                packFloats += Arena.footprint(floats: Kernels.packedWeightFloats(compute, rows: shape[0], cols: shape[1])) / 4
            }
            found.append((name, t, type))
        }
        // converted-weights-fit (OwnedBuffer refuses more than the host can give).
        let buffer = convertFloats > 0 ? try OwnedBuffer(floats: convertFloats, host: host) : nil
        // Tensors read only through their packed copy are converted one at a time into this.
        let transient = transientFloats > 0 ? try OwnedBuffer(floats: transientFloats, host: host) : nil
        // One owned block holds every packed weight, each 64-byte aligned, in table order.
        let packedBuffer = packFloats > 0 ? try OwnedBuffer(floats: packFloats, host: host) : nil

        var f32Views: [TensorName: UnsafePointer<Float>] = [:]
        var packedWeights: [TensorName: PackedWeight] = [:]
        var convertCursor = buffer?.floats, packCursor = packedBuffer?.floats
        var mapped = 0, copied = 0
        for (name, t, type) in found {
            let source = file.bytes.baseAddress! + header.dataOffset + t.begin
            let keepF32 = Self.readsF32(name, compute: compute)
            let values: UnsafePointer<Float>
            let bad: Int?
            let inPlace = Self.usableInPlace(t, type: type, dataOffset: header.dataOffset)
            if inPlace {
                values = source.assumingMemoryBound(to: Float.self)
                bad = Kernels.firstNonFinite(values, count: t.elementCount)
                mapped += t.byteCount
            } else {
                let out = keepF32 ? convertCursor! : transient!.floats
                bad = Kernels.convertToF32(out: out, source: source, dtype: type, count: t.elementCount)
                if keepF32 {
                    convertCursor = out + Arena.footprint(floats: t.elementCount) / 4
                    copied += t.elementCount * 4
                }
                values = UnsafePointer(out)
                // The file's bytes of a converted tensor are never read again.
                file.release(source, count: t.byteCount)
            }
            // finite-weights
            if let bad {
                throw .format("tensor '\(t.name)': element \(bad) is not finite (NaN or Inf)")
            }
            let shape = name.shape(config)
            if name.isLinearWeight, let storage = packCursor,
               let p = Kernels.packWeight(ConstMatrixView(base: values, rows: shape[0], cols: shape[1]), for: compute, into: storage) {
                packedWeights[name] = p
                packCursor = storage + Arena.footprint(floats: Kernels.packedWeightFloats(compute, rows: shape[0], cols: shape[1])) / 4
                // Hand a dead in-place copy's pages back now, so neither RSS nor its peak holds
                // both copies (a mapping stays valid; nothing reads it again).
                if inPlace && !keepF32 { file.release(UnsafeRawPointer(values), count: t.byteCount) }
            }
            // A mapped tensor keeps its (released, re-faultable) view; a transient copy has none.
            if keepF32 || inPlace { f32Views[name] = values }
        }

        func vector(_ name: TensorName) -> VectorView {
            VectorView(base: f32Views[name]!, count: name.shape(config).reduce(1, *))
        }
        func linear(_ name: TensorName) -> LinearWeight {
            let shape = name.shape(config)
            return LinearWeight(f32: f32Views[name].map { ConstMatrixView(base: $0, rows: shape[0], cols: shape[1]) },
                                packed: packedWeights[name], rows: shape[0], cols: shape[1])
        }
        query = vector(.query)
        inputNorm = vector(.inputNorm)
        qProj = linear(.qProj); qBias = vector(.qBias)
        kProj = linear(.kProj); kBias = vector(.kBias)
        vProj = linear(.vProj); vBias = vector(.vBias)
        oProj = linear(.oProj)
        postNorm = vector(.postNorm)
        gateProj = linear(.gateProj); upProj = linear(.upProj); downProj = linear(.downProj)
        downProjF32 = downProj.f32!  // readsF32(.downProj) is true for every compute type
        scorer = vector(.scorer)
        scorerBias = vector(.scorerBias)[0]
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
