// scorer.c — the fused Hadamard + linear scorer: S_i = Σ_d H[i][d]·hq[d]·w[d] + b.
#include "fastdrive_kernels.h"
#include "dispatch.h"

FDK_MULTIVERSION
static float dot(const float *a, const float *b, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    for (; i < n; i++) acc[i & 15] += a[i] * b[i];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

void fdk_dot_rows(float *out, const float *h, int64_t ldh, const float *u, float bias,
                  int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) out[r] = dot(h + r * ldh, u, n) + bias;
}

FDK_MULTIVERSION
void fdk_mul(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}
