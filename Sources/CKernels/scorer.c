// scorer.c — the Hadamard-fused scorer, folded through the MLP's down projection.
//
// S_i = (H_i ⊙ hq)·w_s + b with H_i = h_i + W_down·m_i and m_i = silu(gate_i) ⊙ up_i equals
// h_i·v + m_i·u + b for v = hq ⊙ w_s and u = W_downᵀ·v. The runtime computes v and u once per
// frame from its query row, so the visual rows never run the down projection (a quarter of
// the layer's FLOPs) and m_i is never written back.
#include "fastdrive_kernels.h"
#include "dispatch.h"
#include "dot.h"
#include "fast_exp.h"

/* Σ_c silu(gate[c]) · up[c] · u[c], in the canonical lane order of dot.h. */
FDK_MULTIVERSION
static float swiglu_dot(const float *gate, const float *up, const float *u, int64_t n) {
    float acc[FDK_LANES] = {0};
    int64_t i = 0;
    for (; i + FDK_LANES <= n; i += FDK_LANES)
        for (int l = 0; l < FDK_LANES; l++) {
            const float g = gate[i + l];
            acc[l] += g / (1.0f + fdk_exp_f32(-g)) * up[i + l] * u[i + l];
        }
    for (int l = 0; i + l < n; l++) {
        const float g = gate[i + l];
        acc[l] += g / (1.0f + fdk_exp_f32(-g)) * up[i + l] * u[i + l];
    }
    return lanes_sum(acc);
}

void fdk_folded_scores(float *out, const float *h, int64_t ldh, const float *v, int64_t d,
                       const float *gate, int64_t ldg, const float *up, int64_t ldu, const float *u,
                       int64_t inter, float bias, int64_t rows) {
    for (int64_t r = 0; r < rows; r++)
        out[r] = fdk_dot(h + r * ldh, v, d) + swiglu_dot(gate + r * ldg, up + r * ldu, u, inter) + bias;
}

void fdk_swiglu_dots(float *out, int64_t ldo, const float *gate, int64_t ldg, const float *up, int64_t ldu,
                     const float *u, int64_t n, int64_t rows) {
    for (int64_t r = 0; r < rows; r++) out[r * ldo] = swiglu_dot(gate + r * ldg, up + r * ldu, u, n);
}

void fdk_folded_scores_from_parts(float *out, const float *h, int64_t ldh, const float *v, int64_t d,
                                  const float *parts, int64_t ldp, int64_t count, float bias, int64_t rows) {
    for (int64_t r = 0; r < rows; r++) {
        float m = 0;
        for (int64_t s = 0; s < count; s++) m += parts[r * ldp + s];  // in slice order, whoever computed them
        out[r] = fdk_dot(h + r * ldh, v, d) + m + bias;
    }
}

FDK_MULTIVERSION
void fdk_mul(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}
