// softmax.c — the online-softmax step and final normalisation of blocked attention.
#include "fastdrive_kernels.h"
#include "dispatch.h"
#include "fast_exp.h"

#include <math.h>

FDK_MULTIVERSION
static float row_max_of(const float *s, int64_t n) {
    // 16 running maxima: a compiler may not reorder a float reduction on its own, and the one
    // serial chain ran at a quarter of a vector lane per cycle (about a tenth of int8's pass at
    // N = 3249). The maximum of finite values does not depend on the order.
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] = s[i + j] > acc[j] ? s[i + j] : acc[j];
    for (; i < n; i++) acc[i & 15] = s[i] > acc[i & 15] ? s[i] : acc[i & 15];
    float m = -INFINITY;
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    return m;
}

FDK_MULTIVERSION
static float exp_shift_sum(float *s, int64_t n, float shift) {
    // s[i] = exp(s[i] - shift); 16 partial sums for a fixed, vector-friendly reassociation.
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) {
            float e = fdk_exp_f32(s[i + j] - shift);
            s[i + j] = e;
            acc[j] += e;
        }
    for (; i < n; i++) {
        float e = fdk_exp_f32(s[i] - shift);
        s[i] = e;
        acc[i & 15] += e;
    }
    float sum = 0;
    for (int j = 0; j < 16; j++) sum += acc[j];
    return sum;
}

FDK_MULTIVERSION
static void scale(float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

void fdk_softmax_block(float *s, int64_t lds, int64_t rows, int64_t cols, int64_t q0, int64_t k0,
                       int32_t causal, float *row_max, float *row_sum,
                       float *o, int64_t ldo, int64_t head_dim) {
    for (int64_t r = 0; r < rows; r++) {
        float *sr = s + r * lds;
        int64_t visible = cols;
        if (causal) {
            int64_t v = q0 + r - k0 + 1;
            visible = v < 0 ? 0 : (v > cols ? cols : v);
        }
        for (int64_t c = visible; c < cols; c++) sr[c] = 0.0f;
        if (visible == 0) continue;  // this block adds nothing to the row
        const float m_old = row_max[r];
        const float m_blk = row_max_of(sr, visible);
        const float m_new = m_blk > m_old ? m_blk : m_old;
        const float sum = exp_shift_sum(sr, visible, m_new);
        if (m_new != m_old && row_sum[r] != 0.0f) {
            const float correction = fdk_exp_f32(m_old - m_new);
            row_sum[r] *= correction;
            scale(o + r * ldo, correction, head_dim);
        }
        row_sum[r] += sum;
        row_max[r] = m_new;
    }
}

FDK_MULTIVERSION
void fdk_exp(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = fdk_exp_f32(x[i]);
}

void fdk_divide_rows(float *o, int64_t ldo, const float *row_sum, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) scale(o + r * ldo, 1.0f / row_sum[r], cols);
}
