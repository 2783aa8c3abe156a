// convert.c — f16/bf16 ⇄ f32 conversion and finiteness scans, the only dtype code in the runtime.
#include "fastdrive_kernels.h"
#include "dispatch.h"
#include "bf16.h"

#include <string.h>

static inline float f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t bits_from_f32(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

// Half → float without branches: place exponent+mantissa in a float and rescale by 2^112,
// which also turns half subnormals into the right float normals; Inf/NaN get the top exponent.
static inline float f16_to_f32(uint16_t h) {
    uint32_t em = (uint32_t)(h & 0x7fffu);
    float v = f32_from_bits(em << 13) * 0x1p112f;
    uint32_t u = bits_from_f32(v);
    u |= (em >= 0x7c00u) ? 0x7f800000u : 0u;
    u |= (uint32_t)(h & 0x8000u) << 16;
    return f32_from_bits(u);
}

static inline int is_finite_bits(uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u; }

FDK_MULTIVERSION
static void f16_row(float *out, const uint16_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = f16_to_f32(src[i]);
}

FDK_MULTIVERSION
static void bf16_row(float *out, const uint16_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = f32_from_bits((uint32_t)src[i] << 16);
}

FDK_MULTIVERSION
int64_t fdk_find_non_finite(const float *x, int64_t n) {
    // Count first (vectorises), search only when something is wrong.
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += !is_finite_bits(bits_from_f32(x[i]));
    if (bad == 0) return -1;
    for (int64_t i = 0; i < n; i++)
        if (!is_finite_bits(bits_from_f32(x[i]))) return i;
    return -1;
}

FDK_MULTIVERSION
int64_t fdk_find_nan(const float *x, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += (x[i] != x[i]);
    if (bad == 0) return -1;
    for (int64_t i = 0; i < n; i++)
        if (x[i] != x[i]) return i;
    return -1;
}

int64_t fdk_convert_to_f32(float *out, const void *src, int32_t dtype, int64_t n) {
    switch (dtype) {
    case 0: memcpy(out, src, (size_t)n * sizeof(float)); break;
    case 1: f16_row(out, (const uint16_t *)src, n); break;
    default: bf16_row(out, (const uint16_t *)src, n); break;
    }
    return fdk_find_non_finite(out, n);
}

FDK_MULTIVERSION
void fdk_convert_f32_to_bf16(uint16_t *out, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = fdk_bf16_round(src[i]);
}
