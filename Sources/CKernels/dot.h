// dot.h — the one summation order of every dot product in the kernels.
//
// 16 lane accumulators over blocks of 16, the tail into lanes 0.., then lanes summed 0 → 15: a
// fixed reassociation that the vectoriser maps onto one register at every CPU level, so results
// do not depend on the clone the loader picked, dot(a, b) == dot(b, a) bit for bit, and
// identical rows give identical values wherever they sit.
#ifndef FASTDRIVE_DOT_H
#define FASTDRIVE_DOT_H

#include <stdint.h>

#define FDK_LANES 16

static inline float lanes_sum(const float acc[FDK_LANES]) {
    float s = 0;
    for (int l = 0; l < FDK_LANES; l++) s += acc[l];
    return s;
}

/* The canonical order for one pair. */
static inline float canonical_dot(const float *a, const float *b, int64_t n) {
    float acc[FDK_LANES] = {0};
    int64_t i = 0;
    for (; i + FDK_LANES <= n; i += FDK_LANES)
        for (int l = 0; l < FDK_LANES; l++) acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += a[i + l] * b[i + l];
    return lanes_sum(acc);
}

#endif
