/* deadline.c — the README's "Embedding controls" snippet as a complete program (built and run by
 * ctest): a per-frame deadline through the abort callback, the weights read into owned memory,
 * and the host's OpenBLAS thread count left as it was.
 *
 * usage: deadline PRUNER.safetensors GRID_SIDE HIDDEN_SIZE BUDGET_MS
 *        prints "scored" or "aborted" (a budget of 0 always aborts)
 */
#define _POSIX_C_SOURCE 200809L
#include "fastdrive_pruner.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static _Atomic int64_t frame_deadline_ns;

static bool past_deadline(void *user) {            /* polled on every thread of the handle */
    return now_ns() > atomic_load((_Atomic int64_t *)user);
}

static int run(const char *path, fastdrive_tokens t, float *scores, int64_t budget_ms) {
    fastdrive_pruner *p = NULL;
    atomic_store(&frame_deadline_ns, now_ns() + budget_ms * 1000000);  /* create counts too */
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.abort_callback = past_deadline;                  /* or NULL, and fastdrive_pruner_request_abort(p) */
    o.abort_user_data = &frame_deadline_ns;
    o.load = FASTDRIVE_LOAD_READ;                      /* own a copy: the file may change on disk */
    o.blas_threads = FASTDRIVE_BLAS_THREADS_RESTORE;   /* leave the host's OpenBLAS threads alone */
    if (fastdrive_pruner_create(path, &o, &p) != FASTDRIVE_OK) return 1;
    fastdrive_status s = fastdrive_pruner_score(p, &t, scores);  /* FASTDRIVE_ERR_ABORTED: skip pruning this frame */
    if (s == FASTDRIVE_OK) printf("scored\n");
    else if (s == FASTDRIVE_ERR_ABORTED) printf("aborted: %s\n", fastdrive_pruner_last_error(p));
    else fprintf(stderr, "%s\n", fastdrive_pruner_last_error(p));
    fastdrive_pruner_destroy(p);
    return s == FASTDRIVE_OK || s == FASTDRIVE_ERR_ABORTED ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PRUNER.safetensors GRID_SIDE HIDDEN_SIZE BUDGET_MS\n", argv[0]);
        return 2;
    }
    const int32_t side = atoi(argv[2]);
    const int64_t d = atoll(argv[3]), n = (int64_t)side * side;
    float *vision_out = malloc((size_t)(n * d) * sizeof(float)), *scores = malloc((size_t)n * sizeof(float));
    if (!vision_out || !scores) return 1;
    for (int64_t i = 0; i < n * d; i++) vision_out[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    fastdrive_tokens t = {vision_out, FASTDRIVE_F32, n, d, 0, side, side};
    int status = run(argv[1], t, scores, atoll(argv[4]));
    free(vision_out);
    free(scores);
    return status;
}
