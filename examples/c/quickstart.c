/* quickstart.c — the README's "Use from C" snippet as a complete program (built and run by ctest).
 *
 * usage: quickstart PRUNER.safetensors GRID_SIDE   (tokens: a GRID_SIDE² frame of hidden_size zeros+pattern)
 */
#include "fastdrive_pruner.h"

#include <stdio.h>
#include <stdlib.h>

static int run(const char *path, int32_t side, int64_t d, const float *vision_out, float *scores, int64_t *keep) {
    const int64_t n = (int64_t)side * side;
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(path, NULL, &p) != FASTDRIVE_OK) {
        fprintf(stderr, "%s\n", fastdrive_pruner_last_error(NULL));
        return 1;
    }
    fastdrive_tokens t = {vision_out, FASTDRIVE_F32, n, d, 0, side, side};  /* n, dim, stride, grid */
    int64_t k = 0;
    fastdrive_keep_count(n, 0.5, &k);                                         /* 1624 of 3249 */
    if (fastdrive_pruner_score(p, &t, scores) != FASTDRIVE_OK ||
        fastdrive_pruner_topk(p, scores, n, k, keep) != FASTDRIVE_OK)
        fprintf(stderr, "%s\n", fastdrive_pruner_last_error(p));
    fastdrive_pruner_destroy(p);
    printf("kept %lld of %lld tokens, first %lld\n", (long long)k, (long long)n, (long long)keep[0]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PRUNER.safetensors GRID_SIDE HIDDEN_SIZE\n", argv[0]);
        return 2;
    }
    const int32_t side = atoi(argv[2]);
    const int64_t d = atoll(argv[3]), n = (int64_t)side * side;
    float *vision_out = malloc((size_t)(n * d) * sizeof(float)), *scores = malloc((size_t)n * sizeof(float));
    int64_t *keep = malloc((size_t)n * sizeof(int64_t));
    if (!vision_out || !scores || !keep) return 1;
    for (int64_t i = 0; i < n * d; i++) vision_out[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    int status = run(argv[1], side, d, vision_out, scores, keep);
    free(vision_out);
    free(scores);
    free(keep);
    return status;
}
