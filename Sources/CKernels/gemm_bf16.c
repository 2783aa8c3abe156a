// gemm_bf16.c — C (+)= A·Wᵀ with bf16 inputs and f32 accumulation (AVX512_BF16 vdpbf16ps).
//
// The compute = FASTDRIVE_BF16 path of the linear layers: weights are converted and packed once
// at create, each call converts its rows of A to bf16 pairs, and a 12 × 32 register-blocked
// micro-kernel accumulates in f32. On Zen 4 a vdpbf16ps does 32 multiply-adds where an f32 FMA
// does 16, so this runs ~2× OpenBLAS's f32 sgemm at the pruner's shapes; on a Sapphire Rapids
// KVM guest it measured a quarter of an FMA's rate. Where the process may use AMX (amx.c),
// products of ≥ 16 rows run their whole 16-pair k blocks on tiles (tdpbf16ps), whose B operand
// the packed layout already is; the k tail stays on AVX-512.
//
// Layouts (kp = ceil(k / 2) pairs, NR = 32 columns per panel, zero padding past n and k):
//   packed W: panel p, pair q, column j, element e → w[((p·kp + q)·NR + j)·2 + e] = W[p·NR + j][2q + e]
//   packed A: row r, pair q, element e              → a[(r·kp + q)·2 + e]          = A[r][2q + e]
#include "fastdrive_kernels.h"
#include "bf16.h"
#include "dispatch.h"
#include "amx.h"

#include <string.h>

#define NR 32   /* columns per panel: two zmm accumulators */
#define MR 12   /* rows per micro-tile: 24 accumulators + 2 B + 1 A of the 32 zmm registers */
#define KC 256  /* pairs per k block: a 32 KiB W sub-panel and a 12 KiB A block stay in L1/L2 */

static inline int64_t pairs(int64_t k) { return (k + 1) / 2; }

int fdk_bf16_supported(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw")) return 0;
    (void)fdk_amx_usable();  // decided here, at create, rather than in the first product
    return 1;
#else
    return 0;
#endif
}

int64_t fdk_bf16_packed_weight_elements(int64_t n, int64_t k) { return (n + NR - 1) / NR * NR * pairs(k) * 2; }

int64_t fdk_bf16_packed_rows_elements(int64_t m, int64_t k) { return m * pairs(k) * 2; }

// One 32-column panel's pair row q of a weight read along its rows (row_stride = 1, e.g. the
// transpose of attention's value block): columns are contiguous in both source rows, so each
// output word is two rounded values, and the loop vectorises.
FDK_MULTIVERSION
static void pack_pair_row(uint32_t *out, const float *lo, const float *hi, int64_t cols) {
    for (int64_t j = 0; j < cols; j++)
        out[j] = (uint32_t)fdk_bf16_round(lo[j]) | (uint32_t)(hi ? fdk_bf16_round(hi[j]) : 0) << 16;
    for (int64_t j = cols; j < NR; j++) out[j] = 0;
}

// One column's pairs of a weight read along k (col_stride = 1: a PyTorch weight, attention's key
// block): converted in one vectorised pass, then stored a panel row (NR words) apart.
FDK_MULTIVERSION
static void pack_column(uint32_t *out, const float *x, int64_t k) {
    for (int64_t q = 0; q < k / 2; q++)
        out[q * NR] = (uint32_t)fdk_bf16_round(x[2 * q]) | (uint32_t)fdk_bf16_round(x[2 * q + 1]) << 16;
    if (k & 1) out[(k / 2) * NR] = fdk_bf16_round(x[k - 1]);
}

void fdk_bf16_pack_weight(uint16_t *out, const float *w, int64_t row_stride, int64_t col_stride, int64_t n, int64_t k) {
    const int64_t kp = pairs(k), panels = (n + NR - 1) / NR;
    // Word (p·kp + q)·NR + j holds the pair (2q, 2q + 1) of column p·NR + j, element 2q in its low
    // half: the lower address on the little-endian targets the runtime builds for.
    uint32_t *words = (uint32_t *)(void *)out;
    for (int64_t p = 0; p < panels; p++) {
        const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
        if (row_stride == 1) {
            for (int64_t q = 0; q < kp; q++)
                pack_pair_row(words + (p * kp + q) * NR, w + 2 * q * col_stride + p * NR,
                              2 * q + 1 < k ? w + (2 * q + 1) * col_stride + p * NR : 0, cols);
        } else if (col_stride == 1) {
            for (int64_t j = 0; j < cols; j++) pack_column(words + p * kp * NR + j, w + (p * NR + j) * row_stride, k);
            for (int64_t q = 0; q < kp; q++)
                for (int64_t j = cols; j < NR; j++) words[(p * kp + q) * NR + j] = 0;
        } else {
            for (int64_t q = 0; q < kp; q++)
                for (int64_t j = 0; j < NR; j++)
                    for (int64_t e = 0; e < 2; e++) {
                        const int64_t col = p * NR + j, kk = 2 * q + e;
                        out[((p * kp + q) * NR + j) * 2 + e] =
                            (j < cols && kk < k) ? fdk_bf16_round(w[col * row_stride + kk * col_stride]) : 0;
                    }
        }
    }
}

FDK_MULTIVERSION
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

// Rows [r_begin, r_end) over pairs [k_begin, k_end) on the AVX-512 tiles, adding to c when
// `accumulate` (or after the first k block).
static void avx512_range(float *c, int64_t ldc, const uint16_t *a_packed, int64_t r_begin, int64_t r_end,
                         const uint16_t *w_packed, int64_t n, int64_t kp, int64_t k_begin, int64_t k_end,
                         int accumulate) {
    const int64_t panels = (n + NR - 1) / NR, arow = kp * 2;
    for (int64_t k0 = k_begin; k0 < k_end; k0 += KC) {
        const int64_t kq = k_end - k0 < KC ? k_end - k0 : KC;
        const int load = accumulate || k0 > k_begin;
        for (int64_t p = 0; p < panels; p++) {
            const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
            const __mmask32 mask = cols == NR ? 0xffffffffu : ((1u << cols) - 1u);
            const uint16_t *b = w_packed + (p * kp + k0) * NR * 2;
            for (int64_t r0 = r_begin; r0 < r_end; r0 += MR) {
                const int mr = r_end - r0 < MR ? (int)(r_end - r0) : MR;
                tiles[mr](c + r0 * ldc + p * NR, ldc, a_packed + r0 * arow + k0 * 2, arow, b, kq, load, mask);
            }
        }
    }
}

// 32 (or 16) rows × one 32-column panel over pairs [0, kq) (a multiple of 16 pairs = one 64-byte
// tile row) on AMX tdpbf16ps: tiles 0–3 accumulate in f32, 4–5 hold 16-row A tiles, 6–7 the
// panel's two 16-column halves, which the packed layout stores as tdpbf16ps's B operand (16
// pairs × 16 columns × 2 bf16, rows 128 bytes apart). Writes the sums to out[rows][32].
AMX_TARGET static void amx_rows32(float *out, const uint16_t *a, int64_t arow, const uint16_t *b, int64_t kq) {
    const int64_t stride = arow * 2;  // bytes
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t q = 0; q < kq; q += 16) {
        _tile_loadd(4, a + q * 2, stride);
        _tile_loadd(5, a + 16 * arow + q * 2, stride);
        _tile_loadd(6, b + q * NR * 2, NR * 4);
        _tile_loadd(7, b + q * NR * 2 + 32, NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, out, NR * 4);
    _tile_stored(1, out + 16, NR * 4);
    _tile_stored(2, out + 16 * NR, NR * 4);
    _tile_stored(3, out + 16 * NR + 16, NR * 4);
}

// The same for the 16 (or fewer, as configured) rows of one A tile.
AMX_TARGET static void amx_rows16(float *out, const uint16_t *a, int64_t arow, const uint16_t *b, int64_t kq) {
    _tile_zero(0);
    _tile_zero(1);
    for (int64_t q = 0; q < kq; q += 16) {
        _tile_loadd(4, a + q * 2, arow * 2);
        _tile_loadd(6, b + q * NR * 2, NR * 4);
        _tile_loadd(7, b + q * NR * 2 + 32, NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
    }
    _tile_stored(0, out, NR * 4);
    _tile_stored(1, out + 16, NR * 4);
}

// Rows [0, m) over pairs [0, kq) (a multiple of 16) on AMX: 32- and 16-row blocks, then the
// last < 16 rows with tiles configured to that height.
BF16_TARGET static void amx_range(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m,
                                  const uint16_t *w_packed, int64_t n, int64_t kp, int64_t kq, int accumulate) {
    const int64_t panels = (n + NR - 1) / NR, arow = kp * 2, whole = m / 16 * 16;
    float block[32 * NR] __attribute__((aligned(64)));
    for (int pass = 0; pass < 2; pass++) {
        const int64_t r_begin = pass == 0 ? 0 : whole, r_end = pass == 0 ? whole : m;
        if (r_begin == r_end) continue;
        fdk_amx_configure(pass == 0 ? 16 : (int)(m - whole));
        for (int64_t p = 0; p < panels; p++) {
            const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
            const __mmask32 mask = cols == NR ? 0xffffffffu : ((1u << cols) - 1u);
            const __mmask16 m0 = (__mmask16)mask, m1 = (__mmask16)(mask >> 16);
            const uint16_t *b = w_packed + p * kp * NR * 2;
            for (int64_t r0 = r_begin; r0 < r_end;) {
                const int rows = pass == 1 ? (int)(r_end - r0) : (r_end - r0 >= 32 ? 32 : 16);
                if (rows == 32) amx_rows32(block, a_packed + r0 * arow, arow, b, kq);
                else amx_rows16(block, a_packed + r0 * arow, arow, b, kq);
                for (int r = 0; r < rows; r++) {
                    float *cr = c + (r0 + r) * ldc + p * NR;
                    __m512 f0 = _mm512_load_ps(block + r * NR), f1 = _mm512_load_ps(block + r * NR + 16);
                    if (accumulate) {
                        f0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), f0);
                        f1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), f1);
                    }
                    _mm512_mask_storeu_ps(cr, m0, f0);
                    _mm512_mask_storeu_ps(cr + 16, m1, f1);
                }
                r0 += rows;
            }
        }
    }
    fdk_amx_release();
}

// With at least 16 rows, the whole 16-pair k blocks run on AMX when the process may use it (see
// amx.c), the k tail on the AVX-512 tiles; fewer rows (a query row's GEMV, bound by reading the
// weight) run on the AVX-512 tiles.
void fdk_bf16_gemm(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m, const uint16_t *w_packed,
                   int64_t n, int64_t k, int32_t accumulate) {
    const int64_t kp = pairs(k);
    const int64_t kamx = m >= 16 && fdk_amx_usable() ? kp / 16 * 16 : 0;
    if (kamx == 0) {
        avx512_range(c, ldc, a_packed, 0, m, w_packed, n, kp, 0, kp, accumulate);
        return;
    }
    amx_range(c, ldc, a_packed, m, w_packed, n, kp, kamx, accumulate);
    if (kamx < kp) avx512_range(c, ldc, a_packed, 0, m, w_packed, n, kp, kamx, kp, 1);
}
#else
void fdk_bf16_gemm(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m, const uint16_t *w_packed,
                   int64_t n, int64_t k, int32_t accumulate) {
    (void)c; (void)ldc; (void)a_packed; (void)m; (void)w_packed; (void)n; (void)k; (void)accumulate;
}
#endif
