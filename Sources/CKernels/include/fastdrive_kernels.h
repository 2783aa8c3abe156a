// fastdrive_kernels.h — the runtime's element-wise and reduction kernels (internal, not API).
//
// These are the loops outside GEMM. They live in C so that each can be compiled once per
// x86-64 level (AVX-512 / AVX2+FMA / baseline) and picked at load time by the CPU
// (target_clones): a plain `swift build` then runs AVX-512 code on a machine that has it,
// and the package needs no unsafe compiler flags to be usable as a dependency.
// Shapes: row-major; `ld*` are row strides in elements. Nothing here allocates or threads.
#ifndef FASTDRIVE_KERNELS_H
#define FASTDRIVE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[n] = src[n] converted to f32 (dtype 0 = f32, 1 = f16, 2 = bf16).
/// Returns the index of the first NaN/Inf in the row, or -1 when all are finite.
int64_t fdk_convert_to_f32(float *out, const void *src, int32_t dtype, int64_t n);

/// out[n] = f32 values rounded to bf16 (round to nearest even; NaN stays NaN).
void fdk_convert_f32_to_bf16(uint16_t *out, const float *src, int64_t n);

/// Returns the index of the first NaN/Inf in x[n], or -1.
int64_t fdk_find_non_finite(const float *x, int64_t n);

/// Returns the index of the first NaN in x[n], or -1 (Inf is not reported).
int64_t fdk_find_nan(const float *x, int64_t n);

/// out[r][n] = x[r][n] * rsqrt(mean(x[r]²) + eps) * weight[n], for r < rows (f32 throughout).
void fdk_rmsnorm(float *out, int64_t ldo, const float *x, int64_t ldx, const float *weight,
                 int64_t rows, int64_t n, float eps);

/// out[r][c] = bias[c] for r < rows, c < cols (so a GEMM with beta = 1 adds the bias).
void fdk_broadcast_rows(float *out, int64_t ldo, const float *bias, int64_t rows, int64_t cols);

/// out[r][c] = src[r][c] for r < rows, c < cols.
void fdk_copy_rows(float *out, int64_t ldo, const float *src, int64_t lds, int64_t rows, int64_t cols);

/// out[n] = value.
void fdk_fill(float *out, int64_t n, float value);

/// Rotates `heads` heads of head_dim columns in rows [row0, row0+rows) of x in place,
/// rotate_half style: pair j (< head_dim/2) mixes columns j and j + head_dim/2 by the angle of
/// its position. Position of global row r per mode: 1 = 1d (r on every axis);
/// 2 = mrope (row 0 at (0,0,0); row r = 1+i at (1, 1+i/grid_w, 1+i%grid_w), pair j takes its
/// axis from the sections: t for j < sec_t, h for j < sec_t+sec_h, w otherwise).
/// cos_tab/sin_tab: [positions][head_dim/2], angle = pos * inv_freq[j].
void fdk_rope(float *x, int64_t ldx, int64_t row0, int64_t rows, int64_t heads, int64_t head_dim,
              const float *cos_tab, const float *sin_tab, int32_t mode, int64_t grid_w,
              int32_t sec_t, int32_t sec_h);

/// One online-softmax step of blocked attention (flash-attention style) for a query block.
/// s[rows][cols] (stride lds) holds scaled logits q·kᵀ/sqrt(hd) of query rows q0.. against
/// key rows k0..; when causal, key k is visible to query q only if k <= q. On return s holds
/// the unnormalised probabilities exp(s - m_new) (0 where masked), row_max/row_sum are
/// updated, and o[rows][head_dim] (stride ldo), the running output, is rescaled by
/// exp(m_old - m_new) so that o += p·v completes the step.
void fdk_softmax_block(float *s, int64_t lds, int64_t rows, int64_t cols, int64_t q0, int64_t k0,
                       int32_t causal, float *row_max, float *row_sum,
                       float *o, int64_t ldo, int64_t head_dim);

/// x[n] = exp(x[n]) with the runtime's vectorised exponential (exposed so tests pin its accuracy).
void fdk_exp(float *x, int64_t n);

/// o[r][c] /= row_sum[r]: the online softmax's last step on the attention output.
void fdk_divide_rows(float *o, int64_t ldo, const float *row_sum, int64_t rows, int64_t cols);

/// gate[r][c] = silu(gate[r][c]) * up[r][c]  (SwiGLU), in place.
void fdk_swiglu(float *gate, int64_t ldg, const float *up, int64_t ldu, int64_t rows, int64_t cols);

/// out[r] = dot(h[r][0..d), v) + Σ_c silu(gate[r][c]) · up[r][c] · u[c] + bias, for r < rows:
/// the scorer folded through down_proj (see scorer.c), with v = hq ⊙ w_s and u = W_downᵀ·v.
void fdk_folded_scores(float *out, const float *h, int64_t ldh, const float *v, int64_t d,
                       const float *gate, int64_t ldg, const float *up, int64_t ldu, const float *u,
                       int64_t inter, float bias, int64_t rows);

/// out[n] = a[n] * b[n].
void fdk_mul(float *out, const float *a, const float *b, int64_t n);

/// out[r·ldo] = Σ_c silu(gate[r][c])·up[r][c]·u[c] for c < n: one column slice's share of m_r·u.
void fdk_swiglu_dots(float *out, int64_t ldo, const float *gate, int64_t ldg, const float *up, int64_t ldu,
                     const float *u, int64_t n, int64_t rows);

/// out[r] = h[r]·v + Σ_s parts[r][s] (s in order) + bias: S from the slices' shares of m_r·u.
void fdk_folded_scores_from_parts(float *out, const float *h, int64_t ldh, const float *v, int64_t d,
                                  const float *parts, int64_t ldp, int64_t count, float bias, int64_t rows);

/* ---- Token selection (select.c) ---------------------------------------------------------
 * One canonical dot order for all of these (see select.c): identical rows give identical values. */

/// Returns dot(a[n], b[n]) in the canonical order.
float fdk_dot(const float *a, const float *b, int64_t n);

/// out[r] = dot(x[r], x[r]) for r < rows (squared L2 norms).
void fdk_sum_squares_rows(float *out, const float *x, int64_t ldx, int64_t rows, int64_t n);

/// x[r][c] = x[r][c] / sqrt(dot(x[r], x[r])) in place; an all-zero row stays zero.
void fdk_normalize_l2_rows(float *x, int64_t ldx, int64_t rows, int64_t n);

/// Gram pass over x[rows][n], every pair i < j once, O(rows²·n) time, O(1) extra space, in
/// column chunks 0 ..< fdk_gram_chunks(rows) so threads can share it: chunk c covers the pairs
/// (i, j), i < j, with j in [64c, 64c + 64). Per chunk:
/// best (nullable) [rows]: best[i] = max(best[i], dot(x[i], x[j])) for both ends of each pair
/// (not initialised here: the caller sets -INF; concurrent chunks need their own `best`);
/// sim (nullable) [rows][rows] (stride lds): both cells of each pair = dot(x[i], x[j]), diagonal
/// untouched (concurrent chunks may share it: every pair writes its own cells).
int64_t fdk_gram_chunks(int64_t rows);
void fdk_gram_chunk(float *best, float *sim, int64_t lds, const float *x, int64_t ldx, int64_t rows, int64_t n,
                    int64_t chunk);

/// DivPrune step: min_dist[r] = min(min_dist[r], 1 - dot(x[r], u)) for every r < rows whose
/// min_dist is not -INF (-INF marks an already selected token, left untouched).
void fdk_min_distance_update(float *min_dist, const float *x, int64_t ldx, const float *u,
                             int64_t rows, int64_t n);

/// Index of the largest x[i] (the lowest such index on ties); n >= 1, no NaN.
int64_t fdk_argmax(const float *x, int64_t n);

/// out[r] = dot(x[r], u) for r < rows (the canonical order): one row of cosines for DART.
void fdk_dot_rows(float *out, const float *x, int64_t ldx, const float *u, int64_t rows, int64_t n);

/// out[r] = Σ_c |x[r][c]| for r < rows, in the canonical dot's lane order (DART's pivot norm).
void fdk_l1_norm_rows(float *out, const float *x, int64_t ldx, int64_t rows, int64_t n);

/// One step of CDPruner's greedy DPP over rows r < rows (pointers already at the slice): for
/// every r with d2[r] != -INF, e = (qj · dot(x[r], u) · q[r] − Σ_{t<step} cj[t]·c[r][t]) / den
/// (the Σ in f64 over eight lanes, summed pairwise), c[r][step] = (float)e, d2[r] −= e².
void fdk_dpp_update(double *d2, float *c, int64_t ldc, int64_t step, const float *cj, const float *x,
                    int64_t ldx, const float *u, const float *q, double qj, double den, int64_t rows, int64_t n);

/// The index of the largest of x[n] (f64), the lowest on ties; -INF entries rank last.
int64_t fdk_argmax_f64(const double *x, int64_t n);

/* ---- f32 GEMM over packed weights (gemm_f32.c) ------------------------------------------- */

/// Whether this CPU has AVX-512F (the f32 compute path packs its weights only then).
int fdk_f32_packed_supported(void);

/// Floats a packed [n × k] weight takes (n rounded up to 32-column panels).
int64_t fdk_f32_packed_weight_elements(int64_t n, int64_t k);

/// Packs w[n][k] (row stride ldw) for fdk_f32_gemm.
void fdk_f32_pack_weight(float *out, const float *w, int64_t ldw, int64_t n, int64_t k);

/// c[m][n] (stride ldc) = A·Wᵀ (+ c when accumulate), A f32 rows (stride lda), W packed by
/// fdk_f32_pack_weight (a slice of whole panels is a product too). Only call when
/// fdk_f32_packed_supported().
void fdk_f32_gemm(float *c, int64_t ldc, const float *a, int64_t lda, int64_t m, const float *w_packed, int64_t n,
                  int64_t k, int32_t accumulate);

/* ---- AMX (amx.c) ------------------------------------------------------------------------- */

/// 1 when this process may use Intel AMX tiles (CPU, OS, Linux's permission and a first product
/// checked; FASTDRIVE_AMX=0 says no); decided on the first call, thread-safe. The int8 and bf16
/// GEMMs then run on AMX, with the same results for int8 and bf16's rounding for bf16.
int fdk_amx_usable(void);

/* ---- bf16 GEMM (gemm_bf16.c) ----------------------------------------------------------- */

/// Whether this CPU has AVX512_BF16 (the bf16 compute path needs it).
int fdk_bf16_supported(void);

/// uint16 elements of a packed [n × k] weight (32-column panels of k pairs, zero padded).
int64_t fdk_bf16_packed_weight_elements(int64_t n, int64_t k);

/// uint16 elements of m packed rows of k values (k padded to even).
int64_t fdk_bf16_packed_rows_elements(int64_t m, int64_t k);

/// Packs the f32 matrix W[n][k], element (j, kk) at w[j·row_stride + kk·col_stride], for
/// fdk_bf16_gemm: (ldw, 1) for a PyTorch weight [out, in], (1, ld) for the transpose of a [k][n].
void fdk_bf16_pack_weight(uint16_t *out, const float *w, int64_t row_stride, int64_t col_stride, int64_t n, int64_t k);

/// Converts rows a[m][k] (stride lda), times `scale`, to packed bf16 pairs for fdk_bf16_gemm.
void fdk_bf16_pack_rows(uint16_t *out, const float *a, int64_t lda, int64_t m, int64_t k, float scale);

/// c[m][n] (stride ldc) = A·Wᵀ (+ c when accumulate), A and W packed bf16, f32 accumulation.
/// Only call when fdk_bf16_supported().
void fdk_bf16_gemm(float *c, int64_t ldc, const uint16_t *a_packed, int64_t m, const uint16_t *w_packed,
                   int64_t n, int64_t k, int32_t accumulate);

/* ---- int8 GEMM (gemm_int8.c) ----------------------------------------------------------- */

/// Whether this CPU has AVX512-VNNI (the int8 compute path needs it).
int fdk_int8_supported(void);

/// Bytes of a packed [n × k] weight: 32-column panels of k quads of s8, then n_pad f32 scales,
/// then n_pad int32 column sums (n_pad = n rounded up to 32).
int64_t fdk_int8_packed_weight_bytes(int64_t n, int64_t k);

/// Byte offsets of the scales and the column sums inside a packed [n × k] weight.
int64_t fdk_int8_weight_scales_offset(int64_t n, int64_t k);
int64_t fdk_int8_weight_sums_offset(int64_t n, int64_t k);

/// Bytes of m quantized rows of k values (k padded to a multiple of 4).
int64_t fdk_int8_packed_rows_bytes(int64_t m, int64_t k);

/// Quantizes W[n][k] (stride ldw, PyTorch's [out, in]) symmetrically per output row j:
/// qw = clamp(round(w / sw_j), ±127), sw_j = max|W[j]| / 127; packs it for fdk_int8_gemm.
/// `out` must be 64-byte aligned (fdk_int8_packed_weight_bytes long).
void fdk_int8_pack_weight(uint8_t *out, const float *w, int64_t ldw, int64_t n, int64_t k);

/// Quantizes rows a[m][k] (stride lda) asymmetrically per row into packed u8 quads:
/// qa = clamp(round(a / sa) + za, 0, 255), the range [min(a, 0), max(a, 0)] over 255 steps.
/// The portable reference; fdk_int8_quantize_rows_fast gives the same bytes with AVX-512.
void fdk_int8_quantize_rows(uint8_t *out, float *scales, int32_t *zero_points, const float *a, int64_t lda,
                            int64_t m, int64_t k);
void fdk_int8_quantize_rows_fast(uint8_t *out, float *scales, int32_t *zero_points, const float *a, int64_t lda,
                                 int64_t m, int64_t k);

/// c[m][n] (stride ldc) = sa_r · sw_j · (Σ qa·qw − za_r · Σ qw) (+ c when accumulate): A
/// quantized by fdk_int8_quantize_rows*, W packed by fdk_int8_pack_weight, int32 accumulation.
/// Only call when fdk_int8_supported(); k <= 66000 keeps the int32 sums exact.
/// w_scales and w_sums are the packed weight's (fdk_int8_weight_*_offset), advanced by the same
/// first column as w_packed's panel when multiplying by a slice of whole panels.
void fdk_int8_gemm(float *c, int64_t ldc, const uint8_t *a_packed, const float *a_scales,
                   const int32_t *a_zero_points, int64_t m, const uint8_t *w_packed, const float *w_scales,
                   const int32_t *w_sums, int64_t n, int64_t k, int32_t accumulate);

/// The same product's exact integer part, c[m][n] = Σ qa·qw − za_r · Σ qw (for tests).
void fdk_int8_gemm_s32(int32_t *c, int64_t ldc, const uint8_t *a_packed, const int32_t *a_zero_points, int64_t m,
                       const uint8_t *w_packed, const int32_t *w_sums, int64_t n, int64_t k);

#ifdef __cplusplus
}
#endif

#endif
