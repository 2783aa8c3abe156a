// gemm_bf16.c — C (+)= A·Wᵀ with bf16 inputs and f32 accumulation (AVX512_BF16 vdpbf16ps).
//
// The compute = FASTDRIVE_BF16 path of the linear layers: weights are converted and packed once
// at create, each call converts its rows of A to bf16 pairs, and a 12 × 32 register-blocked
// micro-kernel accumulates in f32. On Zen 4 a vdpbf16ps does 32 multiply-adds where an f32 FMA
// does 16, so this runs ~2× OpenBLAS's f32 sgemm at the pruner's shapes.
//
// Layouts (kp = ceil(k / 2) pairs, NR = 32 columns per panel, zero padding past n and k):
//   packed W: panel p, pair q, column j, element e → w[((p·kp + q)·NR + j)·2 + e] = W[p·NR + j][2q + e]
//   packed A: row r, pair q, element e              → a[(r·kp + q)·2 + e]          = A[r][2q + e]
#include "fastdrive_kernels.h"
#include "bf16.h"

#include <string.h>

#define NR 32   /* columns per panel: two zmm accumulators */
#define MR 12   /* rows per micro-tile: 24 accumulators + 2 B + 1 A of the 32 zmm registers */
#define KC 256  /* pairs per k block: a 32 KiB W sub-panel and a 12 KiB A block stay in L1/L2 */

static inline int64_t pairs(int64_t k) { return (k + 1) / 2; }

int fdk_bf16_supported(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

int64_t fdk_bf16_packed_weight_elements(int64_t n, int64_t k) { return (n + NR - 1) / NR * NR * pairs(k) * 2; }

int64_t fdk_bf16_packed_rows_elements(int64_t m, int64_t k) { return m * pairs(k) * 2; }

void fdk_bf16_pack_weight(uint16_t *out, const float *w, int64_t row_stride, int64_t col_stride, int64_t n, int64_t k) {
    const int64_t kp = pairs(k), panels = (n + NR - 1) / NR;
    for (int64_t p = 0; p < panels; p++)
        for (int64_t q = 0; q < kp; q++)
            for (int64_t j = 0; j < NR; j++)
                for (int64_t e = 0; e < 2; e++) {
                    const int64_t col = p * NR + j, kk = 2 * q + e;
                    out[((p * kp + q) * NR + j) * 2 + e] = (col < n && kk < k) ? fdk_bf16_round(w[col * row_stride + kk * col_stride]) : 0;
                }
}

void fdk_bf16_pack_rows(uint16_t *out, const float *a, int64_t lda, int64_t m, int64_t k, float scale) {
    const int64_t row = pairs(k) * 2;
    for (int64_t r = 0; r < m; r++) {
        uint16_t *o = out + r * row;
        const float *x = a + r * lda;
        for (int64_t kk = 0; kk < k; kk++) o[kk] = fdk_bf16_round(x[kk] * scale);
        if (k & 1) o[k] = 0;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// One mr × 32 tile over kq pairs; `mr` is a constant in every caller, so the accumulators live in
// registers. `mask` covers the panel's valid columns (a partial last panel).
BF16_TARGET __attribute__((always_inline))
static inline void tile(int mr, float *c, int64_t ldc, const uint16_t *a, int64_t arow, const uint16_t *b,
                        int64_t kq, int load, __mmask32 mask) {
    const __mmask16 m0 = (__mmask16)mask, m1 = (__mmask16)(mask >> 16);
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        acc[r][0] = load ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        acc[r][1] = load ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (int64_t q = 0; q < kq; q++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + q * NR * 2);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + q * NR * 2 + 32);
        for (int r = 0; r < MR; r++) {
            if (r >= mr) continue;
            int32_t pair;
            memcpy(&pair, a + r * arow + q * 2, sizeof pair);
            const __m512bh x = (__m512bh)_mm512_set1_epi32(pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, b1);
        }
    }
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

#define TILE(N)                                                                                            \
    BF16_TARGET static void tile##N(float *c, int64_t ldc, const uint16_t *a, int64_t arow, const uint16_t *b, \
                                    int64_t kq, int load, __mmask32 mask) {                                \
        tile(N, c, ldc, a, arow, b, kq, load, mask);                                                       \
    }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12)

typedef void (*tile_fn)(float *, int64_t, const uint16_t *, int64_t, const uint16_t *, int64_t, int, __mmask32);
static const tile_fn tiles[MR + 1] = {0, tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8, tile9, tile10, tile11, tile12};

void fdk_bf16_gemm(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m, const uint16_t *w_packed,
                   int64_t n, int64_t k, int32_t accumulate) {
    const int64_t kp = pairs(k), panels = (n + NR - 1) / NR, arow = kp * 2;
    for (int64_t k0 = 0; k0 < kp; k0 += KC) {
        const int64_t kq = kp - k0 < KC ? kp - k0 : KC;
        const int load = accumulate || k0 > 0;
        for (int64_t p = 0; p < panels; p++) {
            const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
            const __mmask32 mask = cols == NR ? 0xffffffffu : ((1u << cols) - 1u);
            const uint16_t *b = w_packed + (p * kp + k0) * NR * 2;
            for (int64_t r0 = 0; r0 < m; r0 += MR) {
                const int mr = m - r0 < MR ? (int)(m - r0) : MR;
                tiles[mr](c + r0 * ldc + p * NR, ldc, a_packed + r0 * arow + k0 * 2, arow, b, kq, load, mask);
            }
        }
    }
}
#else
void fdk_bf16_gemm(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m, const uint16_t *w_packed,
                   int64_t n, int64_t k, int32_t accumulate) {
    (void)c; (void)ldc; (void)a_packed; (void)m; (void)w_packed; (void)n; (void)k; (void)accumulate;
}
#endif
