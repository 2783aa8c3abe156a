// select.c — the token-selection kernels: dot products in dot.h's one order, L2 norms, nearest-neighbour
// and Gram passes for DivPrune / VisPruner, the DivPrune min-distance update, argmax.
//
// Every dot product here has ONE summation order (16 lane accumulators over blocks of 16,
// the tail into lanes 0.., then lanes summed 0 → 15), whether it comes from fdk_dot or from
// the 4-row tiles of the Gram passes. So dot(a, b) is bit-identical to dot(b, a), identical rows
// give identical values wherever they sit, and the selection's exact ties (duplicated tokens)
// break by index as documented, not by rounding.
#include "fastdrive_kernels.h"
#include "dispatch.h"

#include "dot.h"

#include <math.h>

/* Four pairs (a_r, b) at once, each in exactly the canonical order: b is loaded once per block. */
static inline void canonical_dot4(float out[4], const float *a0, const float *a1, const float *a2,
                                  const float *a3, const float *b, int64_t n) {
    float c0[FDK_LANES] = {0}, c1[FDK_LANES] = {0}, c2[FDK_LANES] = {0}, c3[FDK_LANES] = {0};
    int64_t i = 0;
    for (; i + FDK_LANES <= n; i += FDK_LANES) {
        for (int l = 0; l < FDK_LANES; l++) {
            const float v = b[i + l];
            c0[l] += a0[i + l] * v;
            c1[l] += a1[i + l] * v;
            c2[l] += a2[i + l] * v;
            c3[l] += a3[i + l] * v;
        }
    }
    for (int l = 0; i + l < n; l++) {
        const float v = b[i + l];
        c0[l] += a0[i + l] * v;
        c1[l] += a1[i + l] * v;
        c2[l] += a2[i + l] * v;
        c3[l] += a3[i + l] * v;
    }
    out[0] = lanes_sum(c0);
    out[1] = lanes_sum(c1);
    out[2] = lanes_sum(c2);
    out[3] = lanes_sum(c3);
}

FDK_MULTIVERSION
float fdk_dot(const float *a, const float *b, int64_t n) { return canonical_dot(a, b, n); }

FDK_MULTIVERSION
void fdk_sum_squares_rows(float *out, const float *x, int64_t ldx, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) out[r] = canonical_dot(x + r * ldx, x + r * ldx, n);
}

FDK_MULTIVERSION
void fdk_normalize_l2_rows(float *x, int64_t ldx, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        float *row = x + r * ldx;
        const float norm = sqrtf(canonical_dot(row, row, n));
        if (norm == 0) continue;  /* a zero token stays zero: cosine 0 with every token */
        for (int64_t c = 0; c < n; c++) row[c] = row[c] / norm;
    }
}

/* Rows per column chunk of the Gram passes: 64 rows of D = 2048 (512 KiB) stay in L2. */
#define FDK_GRAM_CHUNK 64

int64_t fdk_gram_chunks(int64_t rows) { return (rows + FDK_GRAM_CHUNK - 1) / FDK_GRAM_CHUNK; }

FDK_MULTIVERSION
void fdk_gram_chunk(float *best, float *sim, int64_t lds, const float *x, int64_t ldx, int64_t rows, int64_t n,
                    int64_t chunk) {
    /* The pairs i < j with j in this chunk of columns, i over 4-row tiles below it. */
    const int64_t j0 = chunk * FDK_GRAM_CHUNK;
    const int64_t j1 = j0 + FDK_GRAM_CHUNK < rows ? j0 + FDK_GRAM_CHUNK : rows;
    for (int64_t i = 0; i < j1 - 1; i += 4) {
        const float *a[4];
        for (int r = 0; r < 4; r++) a[r] = x + (i + r < rows ? i + r : rows - 1) * ldx;
        for (int64_t j = j0 > i + 1 ? j0 : i + 1; j < j1; j++) {
            float s[4];
            canonical_dot4(s, a[0], a[1], a[2], a[3], x + j * ldx, n);
            for (int r = 0; r < 4; r++) {
                const int64_t p = i + r;
                if (p >= j) break;
                if (best) {
                    if (s[r] > best[p]) best[p] = s[r];
                    if (s[r] > best[j]) best[j] = s[r];
                }
                if (sim) {
                    sim[p * lds + j] = s[r];
                    sim[j * lds + p] = s[r];
                }
            }
        }
    }
}

FDK_MULTIVERSION
void fdk_min_distance_update(float *min_dist, const float *x, int64_t ldx, const float *u,
                             int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        if (min_dist[r] == -INFINITY) continue;  /* already selected */
        const float d = 1.0f - canonical_dot(x + r * ldx, u, n);
        if (d < min_dist[r]) min_dist[r] = d;
    }
}

FDK_MULTIVERSION
void fdk_dot_rows(float *out, const float *x, int64_t ldx, const float *u, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) out[r] = canonical_dot(x + r * ldx, u, n);
}

FDK_MULTIVERSION
void fdk_l1_norm_rows(float *out, const float *x, int64_t ldx, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        float acc[FDK_LANES] = {0};
        int64_t i = 0;
        for (; i + FDK_LANES <= n; i += FDK_LANES)
            for (int l = 0; l < FDK_LANES; l++) acc[l] += fabsf(row[i + l]);
        for (int l = 0; i + l < n; l++) acc[l] += fabsf(row[i + l]);
        out[r] = lanes_sum(acc);
    }
}

/* Σ a[t]·b[t] in f64 over eight lanes, summed pairwise: one order for every pair of rows. */
static inline double dpp_dot(const float *a, const float *b, int64_t n) {
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += (double)a[i + l] * (double)b[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += (double)a[i + l] * (double)b[i + l];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

FDK_MULTIVERSION
void fdk_dpp_update(double *d2, float *c, int64_t ldc, int64_t step, const float *cj, const float *x,
                    int64_t ldx, const float *u, const float *q, double qj, double den, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        if (d2[r] == -INFINITY) continue;  /* picked */
        float *cr = c + r * ldc;
        const double s = (double)canonical_dot(x + r * ldx, u, n);
        const double e = ((qj * s) * (double)q[r] - dpp_dot(cj, cr, step)) / den;
        cr[step] = (float)e;
        d2[r] -= e * e;
    }
}

int64_t fdk_argmax_f64(const double *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int64_t fdk_argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}
