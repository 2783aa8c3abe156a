/* alloc_count.c — proves that score, score_batch and topk make no heap allocation after create,
 * with and without an abort callback polled, before and after aborted calls.
 *
 * The program defines malloc and friends itself; the dynamic linker then resolves every
 * allocation in the process (the Swift runtime, OpenBLAS, the worker threads) to these, which
 * count while `counting` is set and forward to glibc's implementations.
 *
 * usage: alloc_count MODEL.safetensors... (each a small pruner; its rope/attention is read back)
 */
#define _GNU_SOURCE
#include "fastdrive_pruner.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_long allocations;

static void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    note();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

static int failures;

/* The abort callback: polled on every thread of the handle; stops the call while `stop` is set. */
static atomic_int stop;
static atomic_long polls;
static bool abort_check(void *user) {
    (void)user;
    atomic_fetch_add(&polls, 1);
    return atomic_load(&stop) != 0;
}

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); failures++; } } while (0)

static void run(const char *path, uint32_t threads, fastdrive_dtype dtype, int64_t stride_pad, fastdrive_dtype compute,
                int aborting) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = 300;
    o.num_threads = threads;
    o.compute = compute;
    if (aborting) {
        o.abort_callback = abort_check;
        o.blas_threads = FASTDRIVE_BLAS_THREADS_RESTORE;  /* count is 1 here: nothing to restore */
    }
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(path, &o, &p) != FASTDRIVE_OK) {
        CHECK(0, "create %s: %s", path, fastdrive_pruner_last_error(NULL));
        return;
    }
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_pruner_describe(p, &info);

    const int32_t gh = 15, gw = 17;  /* 255 tokens, a non-square grid */
    const int64_t n = gh * gw, d = info.hidden_size, stride = d + stride_pad;
    const size_t elem = dtype == FASTDRIVE_F32 ? 4 : 2;
    unsigned char *data = __libc_malloc((size_t)(n * stride) * elem);
    for (int64_t i = 0; i < n * stride; i++) {
        float v = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
        if (dtype == FASTDRIVE_F32) memcpy(data + i * 4, &v, 4);
        else { uint32_t u; memcpy(&u, &v, 4); uint16_t h = (uint16_t)(u >> 16); memcpy(data + i * 2, &h, 2); }
    }
    float *scores = __libc_malloc((size_t)n * sizeof(float));
    int64_t *keep = __libc_malloc((size_t)n * sizeof(int64_t));
    /* BF16 bit patterns are also used for the F16 run: any finite halves will do. */
    fastdrive_tokens t = { data, dtype, n, d, stride_pad ? stride : 0, gh, gw };

    atomic_store(&allocations, 0);
    atomic_store(&counting, 1);
    fastdrive_status s1 = FASTDRIVE_OK, s2 = FASTDRIVE_OK, s3 = FASTDRIVE_OK, s4 = FASTDRIVE_OK;
    for (int rep = 0; rep < 3; rep++) {
        s1 = fastdrive_pruner_score(p, &t, scores);
        s2 = fastdrive_pruner_topk(p, scores, n, n / 2, keep);
        fastdrive_tokens pivots = t;  /* DART's host pivot rows: five rows of the frame itself */
        pivots.n_tokens = 5; pivots.grid_h = 0; pivots.grid_w = 0;
        for (int policy = 0; policy <= FASTDRIVE_POLICY_CDPRUNER; policy++) {  /* every select policy */
            fastdrive_select_params sp;
            memset(&sp, 0, sizeof sp);
            sp.struct_size = sizeof sp;
            sp.policy = (fastdrive_policy)policy;
            sp.k = n / 2;
            /* scores as host importance; RECONPRUNER scores the frame itself on rep 0 */
            sp.aux = policy == FASTDRIVE_POLICY_RECONPRUNER && rep == 0 ? NULL : scores;
            sp.aux_count = n;
            sp.seed = (uint64_t)rep;
            sp.pivot_rows = rep == 1 ? NULL : &pivots;         /* DART with and without text pivots */
            sp.relevance_theta = rep == 2 ? 0.5 : 0.0;         /* CDPRUNER's θ weighting and its default */
            fastdrive_status s = fastdrive_select(p, &t, &sp, keep);
            if (s != FASTDRIVE_OK) s4 = s;
        }
        fastdrive_tokens smaller = t;  /* fewer tokens than the plan, 1d grid */
        smaller.n_tokens = 17; smaller.grid_h = 1; smaller.grid_w = 17;
        fastdrive_pruner_score(p, &smaller, scores);
        fastdrive_tokens cameras[3] = {t, t, t};  /* three 9x9 frames stacked in one call */
        for (int c = 0; c < 3; c++) { cameras[c].n_tokens = 81; cameras[c].grid_h = 9; cameras[c].grid_w = 9; }
        cameras[1].data = data + (size_t)(81 * stride) * elem;
        s3 = fastdrive_pruner_score_batch(p, cameras, 3, scores);
        if (aborting) {
            /* Abort both ways with counting off (the message allocates); the next round counts again. */
            atomic_store(&counting, 0);
            atomic_store(&stop, 1);
            CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_ERR_ABORTED, "%s: callback abort", path);
            atomic_store(&stop, 0);
            fastdrive_pruner_request_abort(p);
            CHECK(fastdrive_pruner_score_batch(p, cameras, 3, scores) == FASTDRIVE_ERR_ABORTED, "%s: request abort", path);
            fastdrive_pruner_reset_abort(p);
            atomic_store(&counting, 1);
            fastdrive_pruner_request_abort(p);  /* request and reset themselves allocate nothing */
            fastdrive_pruner_reset_abort(p);
        }
    }
    atomic_store(&counting, 0);
    CHECK(!aborting || atomic_load(&polls) > 0, "%s: the abort callback was never polled", path);
    long counted = atomic_load(&allocations);
    CHECK(s1 == FASTDRIVE_OK && s2 == FASTDRIVE_OK && s3 == FASTDRIVE_OK && s4 == FASTDRIVE_OK, "%s: score/topk/batch/select failed: %s", path, fastdrive_pruner_last_error(p));
    CHECK(counted == 0, "%s (rope %d, attention %d, %u threads, dtype %d, pad %lld, compute %d): %ld allocations in score/topk/batch/select",
          path, info.rope, info.attention, threads, dtype, (long long)stride_pad, compute, counted);
    printf("%-50s rope=%d attention=%d threads=%u dtype=%d pad=%lld compute=%d abort=%d allocations=%ld\n", path, info.rope,
           info.attention, threads, dtype, (long long)stride_pad, compute, aborting, counted);
    fastdrive_pruner_destroy(p);
    __libc_free(data);
    __libc_free(scores);
    __libc_free(keep);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.safetensors...\n", argv[0]);
        return 2;
    }
    int cases = 0;
    for (int i = 1; i < argc; i++) {
        uint32_t threads[] = {1, 2, 4};
        for (int t = 0; t < 3; t++, cases++) run(argv[i], threads[t], FASTDRIVE_F32, 0, FASTDRIVE_F32, 0);
        run(argv[i], 2, FASTDRIVE_BF16, 0, FASTDRIVE_F32, 0);
        run(argv[i], 2, FASTDRIVE_F16, 5, FASTDRIVE_F32, 0);
        run(argv[i], 1, FASTDRIVE_F32, 0, FASTDRIVE_BF16, 0);  /* compute = bf16, 1 and 2 threads */
        run(argv[i], 2, FASTDRIVE_F16, 5, FASTDRIVE_BF16, 0);
        run(argv[i], 2, FASTDRIVE_F32, 0, FASTDRIVE_F32, 1);   /* abort callback, aborted calls between */
        run(argv[i], 2, FASTDRIVE_F32, 0, FASTDRIVE_BF16, 1);
        run(argv[i], 1, FASTDRIVE_F32, 0, FASTDRIVE_INT8, 0);  /* compute = int8, 1 and 2 threads */
        run(argv[i], 2, FASTDRIVE_BF16, 3, FASTDRIVE_INT8, 0);
        run(argv[i], 2, FASTDRIVE_F32, 0, FASTDRIVE_INT8, 1);
        cases += 6;
    }
    printf("%d passed, %d failed\n", cases - failures, failures);
    return failures ? 1 : 0;
}
