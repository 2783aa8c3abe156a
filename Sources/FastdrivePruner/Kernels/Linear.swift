// Linear.swift — a linear layer's weight in the form its compute type needs, and the one dispatch
// from a compute type to its matrix kernel.
//
// Everything a compute type decides about the linear layers is here: whether and how its
// weights are packed at create (WeightSet asks `packedWeightFloats` and `packWeight`), what
// scratch a worker converts its activation rows into (the plan carves `linearScratch`), and
// which kernel `linear` runs. A new compute type adds a case to `PackedWeight`, a field to
// `LinearScratch` and one arm to each switch below.

/// A weight's copy in the layout of a compute type's own matrix kernel, packed once at create.
enum PackedWeight {
    /// 32-row panels of f32, one k value per panel row (gemm_f32.c).
    case f32(PackedF32Weight)
    /// 32-row panels of bf16 pairs (gemm_bf16.c).
    case bf16(PackedBF16Weight)
    /// 32-row panels of s8 quads, per-row scales and sums (gemm_int8.c).
    case int8(PackedInt8Weight)
}

/// A linear layer's weight [out × in], PyTorch's layout: the f32 view and, for a compute type
/// with its own kernel, the packed copy that kernel reads.
struct LinearWeight {
    /// nil when only the packed copy is kept (the tensor had to be converted, and nothing
    /// reads it in f32: see WeightSet).
    let f32: ConstMatrixView?
    let packed: PackedWeight?
    let rows: Int
    let cols: Int

    init(f32: ConstMatrixView?, packed: PackedWeight?, rows: Int, cols: Int) {
        assert(f32 != nil || packed != nil)
        self.f32 = f32
        self.packed = packed
        self.rows = rows
        self.cols = cols
    }

    /// Output rows per packed panel: slices of a packed weight start on multiples of this.
    static let panelRows = 32

    /// Output rows [start, start + count), for splitting one product's columns over workers.
    /// With a packed copy, `start` must begin a panel and the slice must end on one or at the
    /// last row (panels are stored one after another).
    func rows(_ start: Int, _ count: Int) -> LinearWeight {
        let f32Rows = f32?.rows(start, count)
        switch packed {
        case nil:
            return LinearWeight(f32: f32Rows, packed: nil, rows: count, cols: cols)
        case .f32(let w):
            assert(Kernels.packedF32Elements(rows: 1, cols: 1) == Self.panelRows, "panel width differs from gemm_f32.c")
            assert(start % Self.panelRows == 0 && ((start + count) % Self.panelRows == 0 || start + count == rows))
            let slice = PackedF32Weight(base: w.base + start * cols, rows: count, cols: cols)
            return LinearWeight(f32: f32Rows, packed: .f32(slice), rows: count, cols: cols)
        case .bf16(let w):
            assert(Kernels.packedBF16Elements(rows: 1, cols: 2) == 2 * Self.panelRows, "panel width differs from gemm_bf16.c")
            assert(start % Self.panelRows == 0 && ((start + count) % Self.panelRows == 0 || start + count == rows))
            let slice = PackedBF16Weight(base: w.base + Kernels.packedBF16Elements(rows: start, cols: cols), rows: count, cols: cols)
            return LinearWeight(f32: f32Rows, packed: .bf16(slice), rows: count, cols: cols)
        case .int8(let w):
            assert(Kernels.packedInt8RowBytes(rows: 1, cols: 4) == 4 && Kernels.packedInt8Bytes(rows: 1, cols: 4) == 4 * Self.panelRows + 8 * Self.panelRows,
                   "panel width differs from gemm_int8.c")
            assert(start % Self.panelRows == 0 && ((start + count) % Self.panelRows == 0 || start + count == rows))
            let slice = PackedInt8Weight(base: w.base + Kernels.packedInt8RowBytes(rows: start, cols: cols),
                                         scales: w.scales + start, sums: w.sums + start, rows: count, cols: cols)
            return LinearWeight(f32: f32Rows, packed: .int8(slice), rows: count, cols: cols)
        }
    }
}

/// A worker's scratch for one chunk of activation rows, in the form its compute type's kernel
/// reads them. Empty for f32, whose kernel reads the rows where they are.
struct LinearScratch {
    /// compute = bf16: the rows rounded to bf16 pairs.
    let bf16Rows: PackedBF16Rows?
    /// compute = int8: the rows quantized to u8, with their scales and zero points.
    let int8Rows: PackedInt8Rows?

    static var none: LinearScratch { LinearScratch(bf16Rows: nil, int8Rows: nil) }

    /// The scratch from row `start` on, for rows of `cols` values: a chunk's share of a scratch
    /// planned for many rows.
    func rows(from start: Int, cols: Int) -> LinearScratch {
        LinearScratch(
            bf16Rows: bf16Rows.map {
                let offset = Kernels.packedBF16RowElements(rows: start, cols: cols)
                return PackedBF16Rows(base: $0.base + offset, capacity: $0.capacity - offset)
            },
            int8Rows: int8Rows.map {
                let offset = Kernels.packedInt8RowBytes(rows: start, cols: cols)
                return PackedInt8Rows(base: $0.base + offset, scales: $0.scales + start, zeroPoints: $0.zeroPoints + start,
                                      capacity: $0.capacity - offset, rowCapacity: $0.rowCapacity - start)
            })
    }
}

extension Kernels {
    /// Whether `compute` runs its own kernel on packed copies of the linear weights: always for
    /// bf16 and int8, for f32 on CPUs with AVX-512 (OpenBLAS's sgemm otherwise, which repacks
    /// the weight on every call).
    static func packsWeights(_ compute: ComputeType) -> Bool {
        switch compute {
        case .f32: f32PackedSupported
        case .bf16, .int8: true
        }
    }

    /// Floats of memory the packed copy of a [rows × cols] weight takes under `compute`; 0 when
    /// the compute type reads f32 weights.
    static func packedWeightFloats(_ compute: ComputeType, rows: Int, cols: Int) -> Int {
        switch compute {
        case .f32: packsWeights(.f32) ? packedF32Elements(rows: rows, cols: cols) : 0
        case .bf16: (packedBF16Elements(rows: rows, cols: cols) + 1) / 2
        case .int8: (packedInt8Bytes(rows: rows, cols: cols) + 3) / 4
        }
    }

    /// Packs `w` for `compute` into `storage` (packedWeightFloats long); nil when it reads f32 in place.
    static func packWeight(_ w: ConstMatrixView, for compute: ComputeType,
                           into storage: UnsafeMutablePointer<Float>) -> PackedWeight? {
        switch compute {
        case .f32: packsWeights(.f32) ? .f32(packF32(w, into: storage)) : nil
        case .bf16: .bf16(packBF16(w, into: UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UInt16.self)))
        case .int8: .int8(packInt8(w, into: UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UInt8.self)))
        }
    }

    /// Carves a worker's scratch for up to `rows` activation rows of at most `cols` values.
    static func linearScratch(_ compute: ComputeType, rows: Int, cols: Int,
                              from arena: inout Arena) throws(PrunerError) -> LinearScratch {
        switch compute {
        case .f32:
            return .none
        case .bf16:
            let elements = packedBF16RowElements(rows: rows, cols: cols)
            return LinearScratch(bf16Rows: PackedBF16Rows(base: try arena.uint16s(elements), capacity: elements),
                                 int8Rows: nil)
        case .int8:
            let bytes = packedInt8RowBytes(rows: rows, cols: cols)
            return LinearScratch(bf16Rows: nil, int8Rows: PackedInt8Rows(
                base: try arena.uint8s(bytes), scales: try arena.floats(rows), zeroPoints: try arena.int32s(rows),
                capacity: bytes, rowCapacity: rows))
        }
    }

    /// out[M×N] = a[M×K] · wᵀ (+ out when `accumulate`): PyTorch's F.linear(a, w), a bias or
    /// residual pre-loaded into `out`. Runs the kernel of the weight's packed copy when it has
    /// one (converting `a` into the worker's scratch first), OpenBLAS's f32 sgemm otherwise.
    static func linear(out: MatrixView, _ a: ConstMatrixView, weight w: LinearWeight, accumulate: Bool,
                       scratch: LinearScratch) {
        switch w.packed {
        case .f32(let packed):
            gemmF32(out: out, a, weight: packed, accumulate: accumulate)
        case .bf16(let packed):
            // A packed weight exists only under compute = bf16, whose workers all have rows.
            guard let rows = scratch.bf16Rows else { preconditionFailure("bf16 weight used without bf16 row scratch") }
            packRowsBF16(a, into: rows)
            gemmBF16(out: out, packed: rows, weight: packed, accumulate: accumulate)
        case .int8(let packed):
            guard let rows = scratch.int8Rows else { preconditionFailure("int8 weight used without int8 row scratch") }
            quantizeRowsInt8(a, into: rows)
            gemmInt8(out: out, quantized: rows, weight: packed, accumulate: accumulate)
        case nil:
            // Weights without an f32 view exist only when a packed copy replaces them.
            guard let f32 = w.f32 else { preconditionFailure("weight without f32 view or packed copy") }
            linear(out: out, a, weight: f32, accumulate: accumulate)
        }
    }

    /// Output columns per step of `linear(..., until:)`: a 325-row chunk times 256 columns of a
    /// 2048-wide weight is ~0.34 GFLOP, 3-6 ms of one core, which bounds how long a worker runs
    /// between two abort polls (512 columns left stretches of 20 ms and more at full size in
    /// `Benchmarks/abort_poll_gaps.c`). A multiple of the packed panel height.
    static let columnsPerStep = 8 * LinearWeight.panelRows

    /// `linear` in steps of `columnsPerStep` output columns, asking `stop` before every step;
    /// returns false, with `out` partly written, when it said stop. Steps start at the weight
    /// slice's first row: callers start slices on step boundaries, so a given block of columns is
    /// always the same product. (OpenBLAS's result for a block of a few rows can differ in the
    /// last bit from the same columns inside a wider product: the steps are part of the result.)
    static func linear(out: MatrixView, _ a: ConstMatrixView, weight w: LinearWeight, accumulate: Bool,
                       scratch: LinearScratch, until stop: () -> Bool) -> Bool {
        convertRows(a, for: w, into: scratch)  // once for every step
        return linear(out: out, converted: a, weight: w, accumulate: accumulate, scratch: scratch, until: stop)
    }

    /// Puts `a` into `scratch` in the form `w`'s kernel reads (nothing for f32): a chunk's rows
    /// converted once for several products, `linear(out:converted:...)`.
    static func convertRows(_ a: ConstMatrixView, for w: LinearWeight, into scratch: LinearScratch) {
        switch w.packed {
        case .bf16:
            guard let rows = scratch.bf16Rows else { preconditionFailure("bf16 weight used without bf16 row scratch") }
            packRowsBF16(a, into: rows)
        case .int8:
            guard let rows = scratch.int8Rows else { preconditionFailure("int8 weight used without int8 row scratch") }
            quantizeRowsInt8(a, into: rows)
        case .f32, nil:
            break
        }
    }

    /// The stepped `linear` with `a` already in `scratch` (`convertRows(a, for: w, into: scratch)`).
    static func linear(out: MatrixView, converted a: ConstMatrixView, weight w: LinearWeight, accumulate: Bool,
                       scratch: LinearScratch, until stop: () -> Bool) -> Bool {
        let step = columnsPerStep
        switch w.packed {
        case .f32:
            var c0 = 0
            while c0 < w.rows {
                if stop() { return false }
                let count = min(step, w.rows - c0)
                guard case .f32(let slice) = w.rows(c0, count).packed else { preconditionFailure("f32 slice lost its packing") }
                gemmF32(out: out.columns(c0, count), a, weight: slice, accumulate: accumulate)
                c0 += count
            }
        case .bf16(let packed):
            guard let rows = scratch.bf16Rows else { preconditionFailure("bf16 weight used without bf16 row scratch") }
            var c0 = 0
            while c0 < w.rows {
                if stop() { return false }
                let count = min(step, w.rows - c0)
                let slice = PackedBF16Weight(base: packed.base + packedBF16Elements(rows: c0, cols: w.cols), rows: count, cols: w.cols)
                gemmBF16(out: out.columns(c0, count), packed: rows, weight: slice, accumulate: accumulate)
                c0 += count
            }
        case .int8:
            guard let rows = scratch.int8Rows else { preconditionFailure("int8 weight used without int8 row scratch") }
            var c0 = 0
            while c0 < w.rows {
                if c0 > 0 && stop() { return false }
                let count = min(step, w.rows - c0)
                guard case .int8(let slice) = w.rows(c0, count).packed else { preconditionFailure("int8 slice lost its packing") }
                gemmInt8(out: out.columns(c0, count), quantized: rows, weight: slice, accumulate: accumulate)
                c0 += count
            }
        case nil:
            guard let f32 = w.f32 else { preconditionFailure("weight without f32 view or packed copy") }
            var c0 = 0
            while c0 < w.rows {
                if stop() { return false }
                let count = min(step, w.rows - c0)
                linear(out: out.columns(c0, count), a, weight: f32.rows(c0, count), accumulate: accumulate)
                c0 += count
            }
        }
        return true
    }
}
