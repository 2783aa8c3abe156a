// Convert.swift — f16/bf16 → f32 (tokens, weights) and f32 → bf16, with finiteness checks.
import CKernels

extension Kernels {
    /// out[r][c] = tokens[r][c] as f32 for every row of the host's tokens (out: n × dim).
    /// Returns the (row, column) of the first NaN/Inf, or nil when every value is finite.
    /// `stop` is asked every 256 rows (a full frame takes tens of ms to convert); when it says
    /// stop, the rest is not converted and nil is returned: the caller, which asked, knows.
    static func convertToF32(out: MatrixView, tokens t: TokenView, until stop: () -> Bool = { false }) -> (row: Int, col: Int)? {
        assert(out.rows == t.n && out.cols == t.dim)
        for r in 0..<t.n {
            if r % 256 == 255 && stop() { return nil }
            let bad = fdk_convert_to_f32(out.base + r * out.rowStride, t.row(r), t.dtype.rawValue, Int64(t.dim))
            if bad >= 0 { return (r, Int(bad)) }
        }
        return nil
    }

    /// out[count] = source[count] converted to f32, for weights. Returns the first NaN/Inf index.
    static func convertToF32(out: UnsafeMutablePointer<Float>, source: UnsafeRawPointer,
                             dtype: ElementType, count: Int) -> Int? {
        let bad = fdk_convert_to_f32(out, source, dtype.rawValue, Int64(count))
        return bad < 0 ? nil : Int(bad)
    }

    /// Index of the first NaN/Inf in x[count], or nil.
    static func firstNonFinite(_ x: UnsafePointer<Float>, count: Int) -> Int? {
        let bad = fdk_find_non_finite(x, Int64(count))
        return bad < 0 ? nil : Int(bad)
    }

    /// Index of the first NaN in x[count], or nil (±Inf are ordinary values here).
    static func firstNaN(_ x: VectorView) -> Int? {
        let bad = fdk_find_nan(x.base, Int64(x.count))
        return bad < 0 ? nil : Int(bad)
    }

    /// out[n] = source[n] rounded to bf16 (nearest even).
    static func convertToBF16(out: inout [UInt16], _ source: UnsafeBufferPointer<Float>) {
        precondition(out.count == source.count)
        out.withUnsafeMutableBufferPointer { fdk_convert_f32_to_bf16($0.baseAddress, source.baseAddress, Int64(source.count)) }
    }
}
