// copy.c — strided block copies and fills: bias pre-loads and attention's head stacking.
#include "fastdrive_kernels.h"

#include <string.h>

void fdk_broadcast_rows(float *out, int64_t ldo, const float *bias, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) memcpy(out + r * ldo, bias, (size_t)cols * sizeof(float));
}

void fdk_copy_rows(float *out, int64_t ldo, const float *src, int64_t lds, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) memcpy(out + r * ldo, src + r * lds, (size_t)cols * sizeof(float));
}

void fdk_fill(float *out, int64_t n, float value) {
    for (int64_t i = 0; i < n; i++) out[i] = value;
}
