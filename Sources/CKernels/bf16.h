// bf16.h — the one f32 → bf16 rounding of the runtime: round to nearest even, NaN stays NaN.
//
// Used by the conversion kernels (convert.c) and by the bf16 GEMM's packing of weights and
// activations (gemm_bf16.c), so a value rounds the same wherever it is rounded. Written without
// branches so the loops around it vectorise.
#ifndef FASTDRIVE_BF16_H
#define FASTDRIVE_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t fdk_bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    // A NaN is kept a (quiet) NaN: adding the rounding bias could carry a NaN whose payload
    // lies only in the low 16 bits into the exponent's all-ones, i.e. into ±Inf.
    return (uint16_t)(((u & 0x7fffffffu) > 0x7f800000u) ? ((u >> 16) | 0x40u) : rounded);
}

#endif
