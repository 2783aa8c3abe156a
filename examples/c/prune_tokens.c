/* prune_tokens.c — load a ReconPruner, score one camera frame of visual tokens, keep the top-K.
 *
 * usage: prune_tokens WEIGHTS.safetensors [N_TOKENS=3249] [KEEP_RATIO=0.5] [THREADS=0]
 *
 * The frame is synthetic (a deterministic pattern standing in for the vision encoder's output);
 * a host would pass its own [N_TOKENS x hidden_size] buffer instead. The tokens form a square
 * grid when N_TOKENS is a square (57 x 57 = 3249 for one 1596 x 1596 Impromptu-VLA frame).
 */
#define _POSIX_C_SOURCE 199309L
#include "fastdrive_pruner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* The 1-minute load average (Linux /proc/loadavg), or -1: wall time means little without it. */
static double load_average(void) {
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1) load = -1;
        fclose(f);
    }
    return load;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s WEIGHTS.safetensors [N_TOKENS=3249] [KEEP_RATIO=0.5] [THREADS=0]\n", argv[0]);
        return 2;
    }
    /* Same major version and a library at least as new as this header (a 1.0.1 or 1.2 library serves
     * a 1.0.0 header; 2.0 does not): anything else would disagree on the ABI. */
    if (!FASTDRIVE_VERSION_COMPATIBLE(fastdrive_version_number())) {
        fprintf(stderr, "libfastdrive_pruner %s cannot serve header %s\n", fastdrive_pruner_version(), FASTDRIVE_VERSION_STRING);
        return 1;
    }
    const int64_t n = argc > 2 ? atoll(argv[2]) : 3249;
    const double ratio = argc > 3 ? atof(argv[3]) : 0.5;

    fastdrive_pruner_options options = fastdrive_pruner_default_options();
    options.max_tokens = n > 0 ? (uint32_t)n : 1;
    options.num_threads = argc > 4 ? (uint32_t)atoi(argv[4]) : 0;

    fastdrive_pruner *p = NULL;
    double t0 = now_ms();
    if (fastdrive_pruner_create(argv[1], &options, &p) != FASTDRIVE_OK) {
        fprintf(stderr, "create: %s\n", fastdrive_pruner_last_error(NULL));
        return 1;
    }
    const double create_ms = now_ms() - t0;

    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_pruner_describe(p, &info);
    printf("fastdrive-pruner %s: D=%lld, %lld heads (%lld KV), %.1f M parameters, %u threads; create %.1f ms\n",
           fastdrive_pruner_version(), (long long)info.hidden_size, (long long)info.num_attention_heads,
           (long long)info.num_key_value_heads, (double)info.parameter_count / 1e6, info.num_threads, create_ms);

    const int64_t d = info.hidden_size;
    float *frame = malloc((size_t)(n * d) * sizeof *frame);
    float *scores = malloc((size_t)n * sizeof *scores);
    int64_t k = 0;
    int status = 1;
    if (!frame || !scores) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    for (int64_t i = 0; i < n * d; i++) frame[i] = (float)sin(0.001 * (double)(i % 7919) + (double)(i / d) * 0.37);

    int32_t side = (int32_t)(sqrt((double)n) + 0.5);
    fastdrive_tokens tokens = {frame, FASTDRIVE_F32, n, d, 0, side * side == n ? side : 1, side * side == n ? side : (int32_t)n};

    if (fastdrive_keep_count(n, ratio, &k) != FASTDRIVE_OK) {
        fprintf(stderr, "keep ratio: %s\n", fastdrive_pruner_last_error(NULL));
        goto done;
    }
    int64_t *keep = malloc((size_t)k * sizeof *keep);
    if (!keep) goto done;

    const int frames = 3;
    t0 = now_ms();
    const double cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (int f = 0; f < frames; f++) {
        if (fastdrive_pruner_score(p, &tokens, scores) != FASTDRIVE_OK ||
            fastdrive_pruner_topk(p, scores, n, k, keep) != FASTDRIVE_OK) {
            fprintf(stderr, "prune: %s\n", fastdrive_pruner_last_error(p));
            free(keep);
            goto done;
        }
    }
    const double per_frame = (now_ms() - t0) / frames;
    const double cpu_per_frame = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / frames;

    printf("kept %lld of %lld tokens (keep ratio %.2f): %.1f ms per frame (wall clock)\n", (long long)k, (long long)n,
           ratio, per_frame);
    /* CPU time over wall time is how many cores the call really had; a loaded machine shows it. */
    printf("  the process used %.1f ms of CPU per frame (%.2f cores busy on average); load average %.2f\n",
           cpu_per_frame, per_frame > 0 ? cpu_per_frame / per_frame : 0.0, load_average());
    if (n == 3249 && info.hidden_size == 2048)
        printf("  for scale: about 2.4 s per frame on 2 idle cores (README, Performance); more when the machine is busy\n");
    printf("first kept indices:");
    for (int64_t i = 0; i < k && i < 16; i++) printf(" %lld", (long long)keep[i]);
    printf("%s\n", k > 16 ? " ..." : "");
    free(keep);
    status = 0;

done:
    free(frame);
    free(scores);
    fastdrive_pruner_destroy(p);
    return status;
}
