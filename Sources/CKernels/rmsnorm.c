// rmsnorm.c — Qwen2 RMSNorm: x / sqrt(mean(x²) + eps) * weight, in f32.
#include "fastdrive_kernels.h"
#include "dispatch.h"
#include "dot.h"

#include <math.h>

FDK_MULTIVERSION
static float sum_of_squares(const float *x, int64_t n) { return canonical_dot(x, x, n); }

FDK_MULTIVERSION
static void scale_row(float *out, const float *x, const float *weight, float inv, int64_t n) {
    // (x * inv) * weight, in transformers' order: normalise, then scale.
    for (int64_t i = 0; i < n; i++) out[i] = (x[i] * inv) * weight[i];
}

void fdk_rmsnorm(float *out, int64_t ldo, const float *x, int64_t ldx, const float *weight,
                 int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float mean = sum_of_squares(xr, n) / (float)n;
        scale_row(out + r * ldo, xr, weight, 1.0f / sqrtf(mean + eps), n);
    }
}
