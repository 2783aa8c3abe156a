// gemm_f32.c — C (+)= A·Wᵀ in f32 over weights packed once at create (AVX-512 FMA).
//
// The compute = FASTDRIVE_F32 path of the linear layers on CPUs with AVX-512. OpenBLAS's sgemm
// packs its operands on every call: for the pruner's products (a chunk of a few hundred rows
// times a weight of up to 11008 × 2048) that is the whole weight, read and written once per
// chunk, ~22 % of a frame at N = 256 (measured). Packing the weight once, as the bf16 and int8
// paths do, leaves only the products: a 12 × 32 register-blocked micro-kernel (24 zmm
// accumulators) reads the rows of A where they are and broadcasts one value per row and k.
// Each output is one f32 sum over k in order (blocks of KC added to c in turn), so a result
// does not depend on how rows or columns are split over workers.
//
// Layout (NR = 32 columns per panel, zero padding past n):
//   packed W: panel p, k index kk, column j → w[(p·k + kk)·NR + j] = W[p·NR + j][kk]
#include "fastdrive_kernels.h"

#include <string.h>

#define NR 32   /* columns per panel: two zmm accumulators */
#define MR 12   /* rows per micro-tile: 24 accumulators + 2 B + 1 A of the 32 zmm registers */
#define KC 256  /* k per block: a 32 KiB W sub-panel stays in L1, 12 rows of A (12 KiB) beside it */

int fdk_f32_packed_supported(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int64_t fdk_f32_packed_weight_elements(int64_t n, int64_t k) { return (n + NR - 1) / NR * NR * k; }

void fdk_f32_pack_weight(float *out, const float *w, int64_t ldw, int64_t n, int64_t k) {
    const int64_t panels = (n + NR - 1) / NR;
    for (int64_t p = 0; p < panels; p++) {
        const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
        for (int64_t j = 0; j < NR; j++) {
            float *o = out + p * k * NR + j;
            if (j < cols) {
                const float *x = w + (p * NR + j) * ldw;
                for (int64_t kk = 0; kk < k; kk++) o[kk * NR] = x[kk];
            } else {
                for (int64_t kk = 0; kk < k; kk++) o[kk * NR] = 0;
            }
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define F32_TARGET __attribute__((target("avx512f")))

// One mr × 32 tile over kq values of k; `mr` is a constant in every caller, so the
// accumulators live in registers. `mask` covers the panel's valid columns.
F32_TARGET __attribute__((always_inline))
static inline void tile(int mr, float *c, int64_t ldc, const float *a, const float *b, int64_t kq,
                        int load, __mmask16 m0, __mmask16 m1) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        acc[r][0] = load ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        acc[r][1] = load ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (int64_t q = 0; q < kq; q++) {
        const __m512 b0 = _mm512_loadu_ps(b + q * NR), b1 = _mm512_loadu_ps(b + q * NR + 16);
        for (int r = 0; r < MR; r++) {
            if (r >= mr) continue;
            const __m512 x = _mm512_set1_ps(a[q * MR + r]);
            acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

#define TILE(N)                                                                                              \
    F32_TARGET static void tile##N(float *c, int64_t ldc, const float *a, const float *b, int64_t kq, int load, \
                                   __mmask16 m0, __mmask16 m1) {                                             \
        tile(N, c, ldc, a, b, kq, load, m0, m1);                                                             \
    }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12)

typedef void (*tile_fn)(float *, int64_t, const float *, const float *, int64_t, int, __mmask16, __mmask16);
static const tile_fn tiles[MR + 1] = {0, tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8, tile9, tile10, tile11, tile12};

// A row tile's k block, k-major (a[q·MR + r]): the tile's broadcasts then walk one array
// instead of MR rows a row stride apart (which, at 2048 floats, share one L1 set).
F32_TARGET static void pack_tile(float *out, const float *a, int64_t lda, int mr, int64_t kq) {
    for (int r = 0; r < mr; r++)
        for (int64_t q = 0; q < kq; q++) out[q * MR + r] = a[r * lda + q];
}

void fdk_f32_gemm(float *c, int64_t ldc, const float *a, int64_t lda, int64_t m, const float *w_packed, int64_t n,
                  int64_t k, int32_t accumulate) {
    const int64_t panels = (n + NR - 1) / NR;
    float block[KC * MR] __attribute__((aligned(64)));
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
        const int64_t kq = k - k0 < KC ? k - k0 : KC;
        const int load = accumulate || k0 > 0;
        for (int64_t r0 = 0; r0 < m; r0 += MR) {
            const int mr = m - r0 < MR ? (int)(m - r0) : MR;
            pack_tile(block, a + r0 * lda + k0, lda, mr, kq);
            for (int64_t p = 0; p < panels; p++) {
                const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
                const uint32_t mask = cols == NR ? 0xffffffffu : ((1u << cols) - 1u);
                tiles[mr](c + r0 * ldc + p * NR, ldc, block, w_packed + (p * k + k0) * NR, kq, load, (__mmask16)mask,
                          (__mmask16)(mask >> 16));
            }
        }
    }
}
#else
void fdk_f32_gemm(float *c, int64_t ldc, const float *a, int64_t lda, int64_t m, const float *w_packed, int64_t n,
                  int64_t k, int32_t accumulate) {
    (void)c; (void)ldc; (void)a; (void)lda; (void)m; (void)w_packed; (void)n; (void)k; (void)accumulate;
}
#endif
