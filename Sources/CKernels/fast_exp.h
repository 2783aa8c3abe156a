// fast_exp.h — branch-free expf that auto-vectorises (Cephes polynomial, ~1 ulp on [-87, 88]).
//
// libm's expf is a scalar call that stops the vectoriser; attention evaluates heads·N² of
// them (169 M at N = 3249), so the exponential is the one non-GEMM cost that matters.
#ifndef FASTDRIVE_FAST_EXP_H
#define FASTDRIVE_FAST_EXP_H

#include <stdint.h>
#include <string.h>

static inline float fdk_exp_f32(float x) {
    // Clamp so 2^n stays a normal float; exp(-87.3) ≈ 1.2e-38 is 0 for every use here.
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    // x = n·ln2 + r with |r| <= ln2/2; ln2 split in two for an exact product.
    float n = __builtin_roundevenf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#endif
