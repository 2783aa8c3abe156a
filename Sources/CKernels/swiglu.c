// swiglu.c — the MLP's gate: silu(gate) * up, with silu(x) = x / (1 + exp(-x)).
#include "fastdrive_kernels.h"
#include "dispatch.h"
#include "fast_exp.h"

FDK_MULTIVERSION
static void swiglu_row(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + fdk_exp_f32(-g[i])) * u[i];
}

void fdk_swiglu(float *gate, int64_t ldg, const float *up, int64_t ldu, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) swiglu_row(gate + r * ldg, up + r * ldu, cols);
}
