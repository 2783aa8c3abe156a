/* abort_poll_gaps.c — the work a thread does between two abort polls, at full size.
 *
 * The abort latency of a call is, on an idle machine, the longest stretch a worker runs without
 * polling (it finishes that stretch, sees the request, returns). This program measures that
 * stretch directly: an abort callback that never stops the call records, on every thread of the
 * handle, the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) between the end of one poll and the
 * start of the next. CPU time does not grow while a thread waits for a core, so the figure does
 * not depend on how loaded the machine is; abort_latency.py measures request → return in wall
 * time, which does. It scores a 57 × 57 frame (N = 3249, D = 2048) --calls times per compute
 * type, f32 and bf16 alternating.
 *
 * build: cc -O2 -std=c11 -pthread -I include Benchmarks/abort_poll_gaps.c -L .build/release \
 *           -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o /tmp/abort_poll_gaps
 * usage: /tmp/abort_poll_gaps FULL.safetensors [CALLS=3] [THREADS=2]
 */
#define _GNU_SOURCE
#include "fastdrive_pruner.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 3249, GRID = 57, D = 2048, MAX_GAPS = 1 << 16 };

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Per thread: CPU time at the end of its last poll (< 0: none yet in this call). */
static _Thread_local double last_exit = -1;
static _Thread_local int seen_call = -1;
static atomic_int call_id;
static double gaps[MAX_GAPS];
static atomic_int n_gaps;

static bool poll_cb(void *user) {
    (void)user;
    double now = cpu_ms();
    int call = atomic_load(&call_id);
    if (seen_call == call && last_exit >= 0) {
        int i = atomic_fetch_add(&n_gaps, 1);
        if (i < MAX_GAPS) gaps[i] = now - last_exit;
    }
    seen_call = call;
    last_exit = cpu_ms();
    return false;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FULL.safetensors [CALLS] [THREADS]\n", argv[0]);
        return 2;
    }
    int calls = argc > 2 ? atoi(argv[2]) : 3, threads = argc > 3 ? atoi(argv[3]) : 2;
    float *x = malloc(sizeof(float) * (size_t)N * D), *scores = malloc(sizeof(float) * N);
    for (size_t i = 0; i < (size_t)N * D; i++) x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    fastdrive_tokens t = { x, FASTDRIVE_F32, N, D, 0, GRID, GRID };
    fastdrive_dtype computes[2] = { FASTDRIVE_F32, FASTDRIVE_BF16 };
    fastdrive_pruner *p[2] = { NULL, NULL };
    for (int c = 0; c < 2; c++) {
        fastdrive_pruner_options o = fastdrive_pruner_default_options();
        o.max_tokens = N;
        o.num_threads = (uint32_t)threads;
        o.compute = computes[c];
        o.abort_callback = poll_cb;
        if (fastdrive_pruner_create(argv[1], &o, &p[c]) != FASTDRIVE_OK) {
            fprintf(stderr, "%s\n", fastdrive_pruner_last_error(NULL));
            return 1;
        }
        fastdrive_pruner_score(p[c], &t, scores);  /* warm-up: page the weights in */
    }
    static double per[2][MAX_GAPS];
    int counts[2] = { 0, 0 }, polls_per_call[2] = { 0, 0 };
    for (int k = 0; k < 2 * calls; k++) {
        int c = (k / 2) % 2 == 0 ? k % 2 : 1 - k % 2;  /* f32, bf16, bf16, f32, ... */
        atomic_store(&n_gaps, 0);
        atomic_fetch_add(&call_id, 1);
        if (fastdrive_pruner_score(p[c], &t, scores) != FASTDRIVE_OK) {
            fprintf(stderr, "%s\n", fastdrive_pruner_last_error(p[c]));
            return 1;
        }
        int n = atomic_load(&n_gaps);
        if (n > MAX_GAPS) n = MAX_GAPS;
        polls_per_call[c] = n;
        for (int i = 0; i < n && counts[c] < MAX_GAPS; i++) per[c][counts[c]++] = gaps[i];
    }
    printf("| compute | polls per call | CPU time between polls: median (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|\n");
    for (int c = 0; c < 2; c++) {
        qsort(per[c], (size_t)counts[c], sizeof(double), by_value);
        int n = counts[c];
        printf("| %s | %d | %.2f | %.2f | %.2f |\n", c == 0 ? "f32" : "bf16", polls_per_call[c], per[c][n / 2],
               per[c][(int)(n * 0.99)], per[c][n - 1]);
        fastdrive_pruner_destroy(p[c]);
    }
    free(x);
    free(scores);
    return 0;
}
