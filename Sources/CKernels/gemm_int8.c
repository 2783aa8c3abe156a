// gemm_int8.c — C (+)= A·Wᵀ with u8 activations, s8 weights and int32 accumulation (AVX512-VNNI).
//
// The compute = FASTDRIVE_INT8 path of the linear layers. Weights are quantized once at create,
// symmetric per output channel (w ≈ sw_j · qw, qw in [-127, 127]), and packed so that one
// 64-byte load holds 16 columns × 4 consecutive k values: exactly the operand vpdpbusd wants.
// Each call quantizes its rows of A asymmetrically per row (a ≈ sa_r · (qa - za_r), qa in
// [0, 255], 0 exactly representable), because activations are not centred (SwiGLU outputs are
// mostly positive) and u8 × s8 is the only signed mix VNNI has. A 12 × 32 register-blocked
// micro-kernel accumulates Σ qa·qw in int32 over the whole k range, and the epilogue removes
// the zero point with the weight's precomputed column sums and rescales in f32:
//     c[r][j] (+)= sa_r · sw_j · (Σ_k qa[r][k]·qw[j][k] − za_r · Σ_k qw[j][k])
// Accumulating the full k range in registers (no k blocking) keeps the int32 sum exact; a W
// panel (32 × k bytes, ≤ 352 KiB at k = 11008) and the row tile stay in L2 across the tile loop.
// |Σ (qa − za)·qw| ≤ 255·127·k, so int32 is exact for k ≤ 66,000.
//
// vpdpbusd does 64 multiply-adds per instruction where vdpbf16ps does 32 and an f32 FMA 16, and
// a byte weight is half a bf16 one: the weight-bound query-row GEMVs read half the bytes too.
// Where the process may use AMX (amx.c), products of ≥ 16 rows with k a multiple of 64 run on
// tiles instead (tdpbusd, 16 × 16 × 64 per instruction): the packed layout is already its B
// operand, and the same epilogue finishes the exact int32 sums, so the results are identical.
//
// Layouts (kq = ceil(k / 4) quads, NR = 32 columns per panel, zero padding past n and k):
//   packed W: panel p, quad q, column j, element e → w[((p·kq + q)·NR + j)·4 + e] = qW[p·NR + j][4q + e]
//             followed by the scales sw[n_pad] (f32) and column sums Σ_k qw[j][k] [n_pad] (int32);
//             the kernel takes the three as separate pointers, so a slice of panels is a product too
//   packed A: row r, quad q, element e             → a[(r·kq + q)·4 + e]          = qA[r][4q + e]
//             (padding is 0; it meets zero weights), with sa[m] (f32) and za[m] (int32) beside it
#include "fastdrive_kernels.h"
#include "amx.h"

#include <math.h>
#include <string.h>

#define NR 32   /* columns per panel: two zmm accumulators of 16 int32 lanes */
#define MR 12   /* rows per micro-tile: 24 accumulators + 2 B + 1 A of the 32 zmm registers */

static inline int64_t quads(int64_t k) { return (k + 3) / 4; }
static inline int64_t panels(int64_t n) { return (n + NR - 1) / NR; }

int fdk_int8_supported(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) return 0;
    (void)fdk_amx_usable();  // decided here, at create, rather than in the first product
    return 1;
#else
    return 0;
#endif
}

int64_t fdk_int8_packed_weight_bytes(int64_t n, int64_t k) {
    const int64_t np = panels(n) * NR;
    return np * quads(k) * 4 + np * (int64_t)sizeof(float) + np * (int64_t)sizeof(int32_t);
}

int64_t fdk_int8_weight_scales_offset(int64_t n, int64_t k) { return panels(n) * NR * quads(k) * 4; }

int64_t fdk_int8_weight_sums_offset(int64_t n, int64_t k) {
    return fdk_int8_weight_scales_offset(n, k) + panels(n) * NR * (int64_t)sizeof(float);
}

int64_t fdk_int8_packed_rows_bytes(int64_t m, int64_t k) { return m * quads(k) * 4; }

void fdk_int8_pack_weight(uint8_t *out, const float *w, int64_t ldw, int64_t n, int64_t k) {
    const int64_t kq = quads(k), np = panels(n) * NR;
    float *scales = (float *)(void *)(out + fdk_int8_weight_scales_offset(n, k));
    int32_t *sums = (int32_t *)(void *)(out + fdk_int8_weight_sums_offset(n, k));
    for (int64_t j = 0; j < np; j++) {
        const int64_t p = j / NR, jj = j % NR;
        float amax = 0;
        if (j < n)
            for (int64_t kk = 0; kk < k; kk++) amax = fmaxf(amax, fabsf(w[j * ldw + kk]));
        // An all-zero channel keeps scale 0: its products are 0 whatever qw is.
        const float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0;
        int32_t sum = 0;
        for (int64_t kk = 0; kk < kq * 4; kk++) {
            int32_t q = 0;
            if (j < n && kk < k) {
                q = (int32_t)lrintf(w[j * ldw + kk] * inv);
                q = q > 127 ? 127 : (q < -127 ? -127 : q);
            }
            sum += q;
            out[((p * kq + kk / 4) * NR + jj) * 4 + kk % 4] = (uint8_t)(int8_t)q;
        }
        scales[j] = j < n ? scale : 0;
        sums[j] = sum;
    }
}

void fdk_int8_quantize_rows(uint8_t *out, float *scales, int32_t *zero_points, const float *a, int64_t lda,
                            int64_t m, int64_t k) {
    const int64_t row = quads(k) * 4;
    for (int64_t r = 0; r < m; r++) {
        const float *x = a + r * lda;
        uint8_t *o = out + r * row;
        float lo = 0, hi = 0;  // the range always holds 0, so 0 (padding, ReLU-like zeros) is exact
        for (int64_t kk = 0; kk < k; kk++) {
            lo = fminf(lo, x[kk]);
            hi = fmaxf(hi, x[kk]);
        }
        const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f, inv = 1.0f / scale;
        int32_t zp = (int32_t)lrintf(-lo * inv);
        zp = zp < 0 ? 0 : (zp > 255 ? 255 : zp);
        for (int64_t kk = 0; kk < k; kk++) {
            int32_t q = (int32_t)lrintf(x[kk] * inv) + zp;
            o[kk] = (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
        }
        for (int64_t kk = k; kk < row; kk++) o[kk] = 0;
        scales[r] = scale;
        zero_points[r] = zp;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// Fast row quantization (the scalar version above is the reference and the fallback): same
// arithmetic, so both give the same bytes (round to nearest even in both).
VNNI_TARGET static void quantize_rows_avx512(uint8_t *out, float *scales, int32_t *zero_points, const float *a,
                                             int64_t lda, int64_t m, int64_t k) {
    const int64_t row = quads(k) * 4;
    for (int64_t r = 0; r < m; r++) {
        const float *x = a + r * lda;
        uint8_t *o = out + r * row;
        __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
        int64_t kk = 0;
        for (; kk + 16 <= k; kk += 16) {
            const __m512 v = _mm512_loadu_ps(x + kk);
            vlo = _mm512_min_ps(vlo, v);
            vhi = _mm512_max_ps(vhi, v);
        }
        if (kk < k) {
            const __mmask16 mk = (__mmask16)((1u << (k - kk)) - 1u);
            const __m512 v = _mm512_maskz_loadu_ps(mk, x + kk);  // masked lanes are 0, inside the range
            vlo = _mm512_min_ps(vlo, v);
            vhi = _mm512_max_ps(vhi, v);
        }
        const float lo = _mm512_reduce_min_ps(vlo), hi = _mm512_reduce_max_ps(vhi);
        const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f, inv = 1.0f / scale;
        int32_t zp = (int32_t)lrintf(-lo * inv);
        zp = zp < 0 ? 0 : (zp > 255 ? 255 : zp);
        const __m512 vinv = _mm512_set1_ps(inv);
        const __m512i vzp = _mm512_set1_epi32(zp), v0 = _mm512_setzero_si512(), v255 = _mm512_set1_epi32(255);
        for (kk = 0; kk < row; kk += 16) {
            const int64_t left = k - kk;
            const __mmask16 mk = left >= 16 ? 0xffff : (left > 0 ? (__mmask16)((1u << left) - 1u) : 0);
            const __m512 v = _mm512_maskz_loadu_ps(mk, x + kk);
            __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, vinv)), vzp);  // nearest even
            q = _mm512_min_epi32(_mm512_max_epi32(q, v0), v255);
            q = _mm512_maskz_mov_epi32(mk, q);
            const int64_t store = row - kk < 16 ? row - kk : 16;
            _mm_mask_storeu_epi8(o + kk, (__mmask16)((1u << store) - 1u), _mm512_cvtepi32_epi8(q));
        }
        scales[r] = scale;
        zero_points[r] = zp;
    }
}

// Row r of a finished tile: the raw int32 sums (acc0, acc1 for the panel's two 16-column halves)
// less the zero point times the weights' column sums (s0, s1), then either stored as exact int32
// (c32, the kernel test's view) or rescaled by the row's and columns' scales (w0, w1) into f32,
// added to c when `load`. The VNNI tile and the AMX epilogue both end here.
VNNI_TARGET __attribute__((always_inline))
static inline void finish_row(int r, __m512i acc0, __m512i acc1, float *c, int32_t *c32, int64_t ldc, const float *sa,
                              const int32_t *za, __m512i s0, __m512i s1, __m512 w0, __m512 w1, int load,
                              __mmask16 m0, __mmask16 m1) {
    const __m512i z = _mm512_set1_epi32(za[r]);
    const __m512i v0 = _mm512_sub_epi32(acc0, _mm512_mullo_epi32(z, s0));
    const __m512i v1 = _mm512_sub_epi32(acc1, _mm512_mullo_epi32(z, s1));
    if (c32) {
        _mm512_mask_storeu_epi32(c32 + r * ldc, m0, v0);
        _mm512_mask_storeu_epi32(c32 + r * ldc + 16, m1, v1);
        return;
    }
    const __m512 scale = _mm512_set1_ps(sa[r]);
    __m512 f0 = _mm512_mul_ps(_mm512_cvtepi32_ps(v0), _mm512_mul_ps(scale, w0));
    __m512 f1 = _mm512_mul_ps(_mm512_cvtepi32_ps(v1), _mm512_mul_ps(scale, w1));
    if (load) {
        f0 = _mm512_add_ps(f0, _mm512_maskz_loadu_ps(m0, c + r * ldc));
        f1 = _mm512_add_ps(f1, _mm512_maskz_loadu_ps(m1, c + r * ldc + 16));
    }
    _mm512_mask_storeu_ps(c + r * ldc, m0, f0);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, f1);
}

// One mr × 32 tile over the whole k range; `mr` is a constant in every caller, so the
// accumulators live in registers. `mask` covers the panel's valid columns. With `c32` set the
// tile writes the exact zero-point-corrected int32 sums there instead (the kernel test's view).
VNNI_TARGET __attribute__((always_inline))
static inline void tile(int mr, float *c, int32_t *c32, int64_t ldc, const uint8_t *a, int64_t arow,
                        const float *sa, const int32_t *za, const uint8_t *b, const float *sw, const int32_t *sums,
                        int64_t kq, int load, __mmask32 mask) {
    const __mmask16 m0 = (__mmask16)mask, m1 = (__mmask16)(mask >> 16);
    __m512i acc[MR][2];
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        acc[r][0] = _mm512_setzero_si512();
        acc[r][1] = _mm512_setzero_si512();
    }
    for (int64_t q = 0; q < kq; q++) {
        const __m512i b0 = _mm512_loadu_si512(b + q * NR * 4);
        const __m512i b1 = _mm512_loadu_si512(b + q * NR * 4 + 64);
        for (int r = 0; r < MR; r++) {
            if (r >= mr) continue;
            int32_t quad;
            memcpy(&quad, a + r * arow + q * 4, sizeof quad);
            const __m512i x = _mm512_set1_epi32(quad);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, b0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, b1);
        }
    }
    const __m512i s0 = _mm512_loadu_si512(sums), s1 = _mm512_loadu_si512(sums + 16);
    const __m512 w0 = c32 ? _mm512_setzero_ps() : _mm512_loadu_ps(sw);  // the int32 view has no scales
    const __m512 w1 = c32 ? _mm512_setzero_ps() : _mm512_loadu_ps(sw + 16);
    for (int r = 0; r < MR; r++) {
        if (r >= mr) continue;
        finish_row(r, acc[r][0], acc[r][1], c, c32, ldc, sa, za, s0, s1, w0, w1, load, m0, m1);
    }
}

#define TILE(N)                                                                                                  \
    VNNI_TARGET static void tile##N(float *c, int32_t *c32, int64_t ldc, const uint8_t *a, int64_t arow,          \
                                    const float *sa, const int32_t *za, const uint8_t *b, const float *sw,       \
                                    const int32_t *sums, int64_t kq, int load, __mmask32 mask) {                 \
        tile(N, c, c32, ldc, a, arow, sa, za, b, sw, sums, kq, load, mask);                                      \
    }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12)

typedef void (*tile_fn)(float *, int32_t *, int64_t, const uint8_t *, int64_t, const float *, const int32_t *,
                        const uint8_t *, const float *, const int32_t *, int64_t, int, __mmask32);
static const tile_fn tiles[MR + 1] = {0, tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8, tile9, tile10, tile11, tile12};

// The epilogue of an AMX block: `sums` holds rows × 32 exact int32 products (row stride 32),
// finished by the same `finish_row` as the VNNI tile.
VNNI_TARGET static void finish(int rows, const int32_t *sums32, float *c, int32_t *c32, int64_t ldc, const float *sa,
                               const int32_t *za, const float *sw, const int32_t *sums, int load, __mmask32 mask) {
    const __mmask16 m0 = (__mmask16)mask, m1 = (__mmask16)(mask >> 16);
    const __m512i s0 = _mm512_loadu_si512(sums), s1 = _mm512_loadu_si512(sums + 16);
    const __m512 w0 = c32 ? _mm512_setzero_ps() : _mm512_loadu_ps(sw);
    const __m512 w1 = c32 ? _mm512_setzero_ps() : _mm512_loadu_ps(sw + 16);
    for (int r = 0; r < rows; r++)
        finish_row(r, _mm512_loadu_si512(sums32 + r * NR), _mm512_loadu_si512(sums32 + r * NR + 16), c, c32, ldc, sa,
                   za, s0, s1, w0, w1, load, m0, m1);
}

// 32 rows × one 32-column panel over the whole k range (kq a multiple of 16 quads = one
// 64-byte tile row) on AMX: tiles 0–3 accumulate, 4–5 hold two 16-row A tiles, 6–7 the
// panel's two 16-column halves, which the packed layout already stores as tdpbusd's B operand
// (16 quads × 16 columns × 4 bytes, rows 128 bytes apart). Writes the int32 sums to out[32][32].
AMX_TARGET static void amx_rows32(int32_t *out, const uint8_t *a, int64_t arow, const uint8_t *b, int64_t kq) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t q = 0; q < kq; q += 16) {
        _tile_loadd(4, a + q * 4, arow);
        _tile_loadd(5, a + 16 * arow + q * 4, arow);
        _tile_loadd(6, b + q * NR * 4, NR * 4);
        _tile_loadd(7, b + q * NR * 4 + 64, NR * 4);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, out, NR * 4);
    _tile_stored(1, out + 16, NR * 4);
    _tile_stored(2, out + 16 * NR, NR * 4);
    _tile_stored(3, out + 16 * NR + 16, NR * 4);
}

// The same for the 16 (or fewer, as configured) rows of one A tile.
AMX_TARGET static void amx_rows16(int32_t *out, const uint8_t *a, int64_t arow, const uint8_t *b, int64_t kq) {
    _tile_zero(0);
    _tile_zero(1);
    for (int64_t q = 0; q < kq; q += 16) {
        _tile_loadd(4, a + q * 4, arow);
        _tile_loadd(6, b + q * NR * 4, NR * 4);
        _tile_loadd(7, b + q * NR * 4 + 64, NR * 4);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
    }
    _tile_stored(0, out, NR * 4);
    _tile_stored(1, out + 16, NR * 4);
}

// `amx`: with a k range of whole tile rows and at least 16 rows, every row runs on AMX (the
// caller checked fdk_amx_usable): 32- and 16-row blocks, then the last < 16 rows with tiles
// configured to that height; otherwise all run on the AVX-512 tiles. Both give the same exact
// int32 sums. (A single row, a query row's GEMV, is bound by reading the weight either way.)
static void gemm(int amx, float *c, int32_t *c32, int64_t ldc, const uint8_t *a_packed, const float *a_scales,
                 const int32_t *a_zero_points, int64_t m, const uint8_t *w_packed, const float *w_scales,
                 const int32_t *w_sums, int64_t n, int64_t k, int32_t accumulate) {
    const int64_t kq = quads(k), arow = kq * 4;
    amx = amx && kq % 16 == 0 && m >= 16;
    const int64_t whole = amx ? m / 16 * 16 : 0;  // rows in 16-row blocks
    int32_t block[32 * NR] __attribute__((aligned(64)));
    if (amx) fdk_amx_configure(16);
    for (int pass = 0; pass < 2; pass++) {
        // Pass 0: the 16-row blocks (AMX) or every row (AVX-512); pass 1: AMX's last rows.
        const int64_t r_begin = pass == 0 ? 0 : whole, r_end = pass == 0 && amx ? whole : m;
        if (pass == 1) {
            if (!amx || whole == m) break;
            fdk_amx_configure((int)(m - whole));
        }
        for (int64_t p = 0; p < panels(n); p++) {
            const int64_t cols = n - p * NR < NR ? n - p * NR : NR;
            const __mmask32 mask = cols == NR ? 0xffffffffu : ((1u << cols) - 1u);
            const uint8_t *b = w_packed + p * kq * NR * 4;
            const float *sw = w_scales ? w_scales + p * NR : 0;
            for (int64_t r0 = r_begin; r0 < r_end;) {
                float *cr = c ? c + r0 * ldc + p * NR : 0;
                int32_t *cr32 = c32 ? c32 + r0 * ldc + p * NR : 0;
                const float *sa = a_scales ? a_scales + r0 : 0;
                if (amx) {
                    const int rows = pass == 1 ? (int)(r_end - r0) : (r_end - r0 >= 32 ? 32 : 16);
                    if (rows == 32) amx_rows32(block, a_packed + r0 * arow, arow, b, kq);
                    else amx_rows16(block, a_packed + r0 * arow, arow, b, kq);
                    finish(rows, block, cr, cr32, ldc, sa, a_zero_points + r0, sw, w_sums + p * NR, accumulate, mask);
                    r0 += rows;
                } else {
                    const int mr = r_end - r0 < MR ? (int)(r_end - r0) : MR;
                    tiles[mr](cr, cr32, ldc, a_packed + r0 * arow, arow, sa, a_zero_points + r0, b, sw, w_sums + p * NR,
                              kq, accumulate, mask);
                    r0 += mr;
                }
            }
        }
    }
    if (amx) fdk_amx_release();
}

int fdk_amx_self_test(void) {
    // 37 rows (two AMX blocks and a remainder), 40 columns (a partial panel), k = 128.
    enum { M = 37, N = 40, K = 128 };
    static float a[M * K], w[N * K];
    static uint8_t rows[M * K], packed[2 * NR * K + 2 * NR * 8] __attribute__((aligned(64)));
    static float sa[M];
    static int32_t za[M], want[M * N], got[M * N];
    for (int i = 0; i < M * K; i++) a[i] = (float)((i * 37) % 101) / 25.0f - 1.0f;
    for (int i = 0; i < N * K; i++) w[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
    fdk_int8_quantize_rows(rows, sa, za, a, K, M, K);
    fdk_int8_pack_weight(packed, w, K, N, K);
    const int32_t *sums = (const int32_t *)(const void *)(packed + fdk_int8_weight_sums_offset(N, K));
    gemm(0, 0, want, N, rows, 0, za, M, packed, 0, sums, N, K, 0);
    gemm(1, 0, got, N, rows, 0, za, M, packed, 0, sums, N, K, 0);
    return memcmp(want, got, sizeof want) == 0;
}

void fdk_int8_quantize_rows_fast(uint8_t *out, float *scales, int32_t *zero_points, const float *a, int64_t lda,
                                 int64_t m, int64_t k) {
    quantize_rows_avx512(out, scales, zero_points, a, lda, m, k);
}

void fdk_int8_gemm(float *c, int64_t ldc, const uint8_t *a_packed, const float *a_scales,
                   const int32_t *a_zero_points, int64_t m, const uint8_t *w_packed, const float *w_scales,
                   const int32_t *w_sums, int64_t n, int64_t k, int32_t accumulate) {
    gemm(fdk_amx_usable(), c, 0, ldc, a_packed, a_scales, a_zero_points, m, w_packed, w_scales, w_sums, n, k,
         accumulate);
}

void fdk_int8_gemm_s32(int32_t *c, int64_t ldc, const uint8_t *a_packed, const int32_t *a_zero_points, int64_t m,
                       const uint8_t *w_packed, const int32_t *w_sums, int64_t n, int64_t k) {
    gemm(fdk_amx_usable(), 0, c, ldc, a_packed, 0, a_zero_points, m, w_packed, 0, w_sums, n, k, 0);
}
#else
int fdk_amx_self_test(void) { return 0; }
void fdk_int8_quantize_rows_fast(uint8_t *out, float *scales, int32_t *zero_points, const float *a, int64_t lda,
                                 int64_t m, int64_t k) {
    fdk_int8_quantize_rows(out, scales, zero_points, a, lda, m, k);
}
void fdk_int8_gemm(float *c, int64_t ldc, const uint8_t *a_packed, const float *a_scales,
                   const int32_t *a_zero_points, int64_t m, const uint8_t *w_packed, const float *w_scales,
                   const int32_t *w_sums, int64_t n, int64_t k, int32_t accumulate) {
    (void)c; (void)ldc; (void)a_packed; (void)a_scales; (void)a_zero_points; (void)m; (void)w_packed;
    (void)w_scales; (void)w_sums; (void)n; (void)k; (void)accumulate;
}
void fdk_int8_gemm_s32(int32_t *c, int64_t ldc, const uint8_t *a_packed, const int32_t *a_zero_points, int64_t m,
                       const uint8_t *w_packed, const int32_t *w_sums, int64_t n, int64_t k) {
    (void)c; (void)ldc; (void)a_packed; (void)a_zero_points; (void)m; (void)w_packed; (void)w_sums; (void)n; (void)k;
}
#endif
