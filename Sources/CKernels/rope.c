// rope.c — rotary position embedding (rotate_half layout), 1-D and Qwen2.5-VL multimodal.
#include "fastdrive_kernels.h"
#include "dispatch.h"

FDK_MULTIVERSION
static void rotate(float *x, int64_t half, const float *c, const float *s) {
    // first half: x1·cos − x2·sin; second half: x2·cos + x1·sin (transformers' rotate_half).
    for (int64_t j = 0; j < half; j++) {
        float x1 = x[j], x2 = x[j + half];
        x[j] = x1 * c[j] - x2 * s[j];
        x[j + half] = x2 * c[j] + x1 * s[j];
    }
}

void fdk_rope(float *x, int64_t ldx, int64_t row0, int64_t rows, int64_t heads, int64_t head_dim,
              const float *cos_tab, const float *sin_tab, int32_t mode, int64_t grid_w,
              int32_t sec_t, int32_t sec_h) {
    const int64_t half = head_dim / 2;
    // mrope gathers each pair's angle from its own axis into these stack arrays: 64 pairs at
    // hd = 128, at most 512 because a config's head_dim is at most 1024 (PrunerConfig.maxHeadDim).
    float cg[512], sg[512];
    for (int64_t r = 0; r < rows; r++) {
        const int64_t g = row0 + r;
        const float *c, *s;
        if (mode == 1 || g == 0) {
            // 1d, and the query row of mrope at (0,0,0) — which is position 0 on every axis.
            c = cos_tab + (mode == 1 ? g : 0) * half;
            s = sin_tab + (mode == 1 ? g : 0) * half;
        } else {
            const int64_t i = g - 1;
            const int64_t pos[3] = {1, 1 + i / grid_w, 1 + i % grid_w};
            for (int64_t j = 0; j < half; j++) {
                const int axis = j < sec_t ? 0 : (j < sec_t + sec_h ? 1 : 2);
                cg[j] = cos_tab[pos[axis] * half + j];
                sg[j] = sin_tab[pos[axis] * half + j];
            }
            c = cg;
            s = sg;
        }
        float *xr = x + r * ldx;
        for (int64_t h = 0; h < heads; h++) rotate(xr + h * head_dim, half, c, s);
    }
}
