// RoPE.swift — rotary embeddings: the angle tables and the in-place rotation of q/k rows.
import CKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Kernels {
    /// cos/sin[pos][j] = cos/sin(pos · inv_freq[j]), inv_freq[j] = theta^(-2j/hd), pos < rows.
    /// Rounded like transformers: inv_freq and the angle are f32, cos/sin of that f32 angle.
    static func ropeTables(cosTable: MatrixView, sinTable: MatrixView, theta: Double, headDim: Int) {
        let half = headDim / 2
        for j in 0..<half {
            let invFreq = Float(1.0 / pow(theta, Double(2 * j) / Double(headDim)))
            for p in 0..<cosTable.rows {
                let angle = Double(Float(p) * invFreq)
                cosTable.base[p * cosTable.rowStride + j] = Float(cos(angle))
                sinTable.base[p * sinTable.rowStride + j] = Float(sin(angle))
            }
        }
    }

    /// Rotates the `heads` heads of rows [row0, row0 + x.rows) of q or k in place.
    static func rope(_ x: MatrixView, row0: Int, heads: Int, headDim: Int, cosTable: ConstMatrixView,
                     sinTable: ConstMatrixView, mode: RoPEMode, gridW: Int, sections: (Int, Int)) {
        guard mode != .none else { return }
        fdk_rope(x.base, Int64(x.rowStride), Int64(row0), Int64(x.rows), Int64(heads), Int64(headDim),
                 cosTable.base, sinTable.base, mode.rawValue, Int64(gridW), Int32(sections.0), Int32(sections.1))
    }
}
