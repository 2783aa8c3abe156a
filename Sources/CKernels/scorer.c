// scorer.c — the fused Hadamard + linear scorer: S_i = Σ_d H[i][d]·hq[d]·w[d] + b.
#include "fastdrive_kernels.h"
#include "dispatch.h"

void fdk_dot_rows(float *out, const float *h, int64_t ldh, const float *u, float bias,
                  int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) out[r] = fdk_dot(h + r * ldh, u, n) + bias;
}

FDK_MULTIVERSION
void fdk_mul(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}
