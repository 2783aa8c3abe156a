/* abort.c — the 1.1 controls: aborting a call, loading without mmap, num_threads = 0 under an
 * affinity mask, the OpenBLAS thread-count choices, fastdrive_pruner_select.
 *
 * usage: abort MODEL.safetensors SCRATCH_DIR
 * build: cc -std=c11 -Wall -Wextra -Werror -pthread -I include Tests/c/abort.c \
 *           -L .build/release -lfastdrive_pruner -lopenblas -Wl,-rpath,$PWD/.build/release -o abort
 *
 * Abort: a callback that says stop on its n-th poll stops score, score_batch and select
 * (DIVPRUNE, VISPRUNER, RECONPRUNER) with FASTDRIVE_ERR_ABORTED and the outputs untouched; the
 * callback is polled on every thread of the handle; a request from another thread stops the
 * running call and every later one until reset; after each abort the handle's results equal a
 * fresh handle's bit for bit. Load: LOAD_READ scores equal LOAD_MMAP's bit for bit and survive
 * the file being overwritten and truncated; under LOAD_MMAP an overwrite in place changes the
 * scores and a truncation kills the process with SIGBUS (in a forked child), as the header says.
 * Prints "N passed, M failed" last; exits 1 on any failure.
 */
#define _GNU_SOURCE
#include "fastdrive_pruner.h"
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int openblas_get_num_threads(void);
void openblas_set_num_threads(int);

enum { GRID_H = 12, GRID_W = 20, N = GRID_H * GRID_W, K = N / 3, FRAMES = 3 };

static int64_t dim;
static float *tokens;

/* The callback's state: stop on poll number `stop_at` (0 = never); which threads polled. */
typedef struct {
    atomic_long polls;
    long stop_at;
    atomic_int threads_seen;     /* distinct pthread ids, up to 8 */
    pthread_t seen[8];
    pthread_mutex_t lock;
} poll_state;

static bool poll_cb(void *user) {
    poll_state *s = user;
    pthread_t me = pthread_self();
    pthread_mutex_lock(&s->lock);
    int n = atomic_load(&s->threads_seen), known = 0;
    for (int i = 0; i < n; i++) known |= pthread_equal(s->seen[i], me);
    if (!known && n < 8) { s->seen[n] = me; atomic_store(&s->threads_seen, n + 1); }
    pthread_mutex_unlock(&s->lock);
    long k = atomic_fetch_add(&s->polls, 1) + 1;
    return s->stop_at > 0 && k >= s->stop_at;
}

static fastdrive_pruner *open_with(const char *path, uint32_t threads, fastdrive_abort_callback cb, void *user,
                                   fastdrive_load load, fastdrive_blas_threads blas) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = FRAMES * N + FRAMES;
    o.num_threads = threads;
    o.abort_callback = cb;
    o.abort_user_data = user;
    o.load = load;
    o.blas_threads = blas;
    fastdrive_pruner *p = NULL;
    fastdrive_status s = fastdrive_pruner_create(path, &o, &p);
    CHECK(s == FASTDRIVE_OK && p, "create %s: %s", path, fastdrive_pruner_last_error(NULL));
    return p;
}

static fastdrive_tokens frame(int f) {
    fastdrive_tokens t = { tokens + (size_t)f * N * dim, FASTDRIVE_F32, N, dim, 0, GRID_H, GRID_W };
    return t;
}

static fastdrive_select_params policy(fastdrive_policy pol, const float *aux) {
    fastdrive_select_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.policy = pol;
    sp.k = K;
    sp.aux = aux;
    sp.aux_count = aux ? N : 0;
    return sp;
}

/* A fresh handle's results: the reference every handle must reproduce after an abort. */
static float ref_scores[N], ref_batch[FRAMES * N], ref_aux[N];
static int64_t ref_div[K], ref_vis[K], ref_dart[K], ref_cdp[K];

static void references(const char *path) {
    fastdrive_pruner *p = open_with(path, 2, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    fastdrive_tokens t = frame(0), all[FRAMES] = { frame(0), frame(1), frame(2) };
    CHECK(fastdrive_pruner_score(p, &t, ref_scores) == FASTDRIVE_OK, "reference score");
    CHECK(fastdrive_pruner_score_batch(p, all, FRAMES, ref_batch) == FASTDRIVE_OK, "reference batch");
    for (int i = 0; i < N; i++) ref_aux[i] = (float)((i * 37) % 101);
    fastdrive_select_params d = policy(FASTDRIVE_POLICY_DIVPRUNE, NULL), v = policy(FASTDRIVE_POLICY_VISPRUNER, ref_aux);
    CHECK(fastdrive_pruner_select(p, &t, &d, ref_div) == FASTDRIVE_OK, "reference divprune: %s", fastdrive_pruner_last_error(p));
    CHECK(fastdrive_select(p, &t, &v, ref_vis) == FASTDRIVE_OK, "reference vispruner");
    fastdrive_select_params da = policy(FASTDRIVE_POLICY_DART, NULL), c = policy(FASTDRIVE_POLICY_CDPRUNER, ref_aux);
    CHECK(fastdrive_select(p, &t, &da, ref_dart) == FASTDRIVE_OK, "reference dart: %s", fastdrive_pruner_last_error(p));
    CHECK(fastdrive_select(p, &t, &c, ref_cdp) == FASTDRIVE_OK, "reference cdpruner: %s", fastdrive_pruner_last_error(p));
    fastdrive_pruner_destroy(p);
}

/* Every call of `p` gives the fresh handle's results, bit for bit. */
static void same_as_fresh(fastdrive_pruner *p, const char *when) {
    float scores[FRAMES * N];
    int64_t keep[K];
    fastdrive_tokens t = frame(0), all[FRAMES] = { frame(0), frame(1), frame(2) };
    CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_OK && memcmp(scores, ref_scores, sizeof ref_scores) == 0,
          "%s: score differs from a fresh handle's (%s)", when, fastdrive_pruner_last_error(p));
    CHECK(fastdrive_pruner_score_batch(p, all, FRAMES, scores) == FASTDRIVE_OK &&
              memcmp(scores, ref_batch, sizeof ref_batch) == 0, "%s: batch differs from a fresh handle's", when);
    fastdrive_select_params d = policy(FASTDRIVE_POLICY_DIVPRUNE, NULL), v = policy(FASTDRIVE_POLICY_VISPRUNER, ref_aux);
    CHECK(fastdrive_pruner_select(p, &t, &d, keep) == FASTDRIVE_OK && memcmp(keep, ref_div, sizeof ref_div) == 0,
          "%s: divprune differs from a fresh handle's", when);
    CHECK(fastdrive_pruner_select(p, &t, &v, keep) == FASTDRIVE_OK && memcmp(keep, ref_vis, sizeof ref_vis) == 0,
          "%s: vispruner differs from a fresh handle's", when);
    fastdrive_select_params da = policy(FASTDRIVE_POLICY_DART, NULL), c = policy(FASTDRIVE_POLICY_CDPRUNER, ref_aux);
    CHECK(fastdrive_pruner_select(p, &t, &da, keep) == FASTDRIVE_OK && memcmp(keep, ref_dart, sizeof ref_dart) == 0,
          "%s: dart differs from a fresh handle's", when);
    CHECK(fastdrive_pruner_select(p, &t, &c, keep) == FASTDRIVE_OK && memcmp(keep, ref_cdp, sizeof ref_cdp) == 0,
          "%s: cdpruner differs from a fresh handle's", when);
}

static void test_callback(const char *path) {
    poll_state st = { .stop_at = 0 };
    pthread_mutex_init(&st.lock, NULL);
    fastdrive_pruner *p = open_with(path, 2, poll_cb, &st, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    if (!p) return;
    CHECK(atomic_load(&st.polls) == 0, "create polled the callback");

    /* Never stopping: results unchanged, polled more than once, on both threads. */
    same_as_fresh(p, "callback that never stops");
    long per_score = 0;
    {
        float scores[N];
        fastdrive_tokens t = frame(0);
        long before = atomic_load(&st.polls);
        fastdrive_pruner_score(p, &t, scores);
        per_score = atomic_load(&st.polls) - before;
    }
    CHECK(per_score > 2, "score polled the callback %ld times", per_score);
    /* The worker polls only if it takes a task before the caller has run them all; give it a few
       calls. Valgrind runs one thread at a time (scripts/sanitize.sh sets
       FASTDRIVE_TEST_SERIAL_THREADS), so there the caller may legitimately run every task. */
    for (int tries = 0; tries < 20 && atomic_load(&st.threads_seen) < 2; tries++) {
        float scores[N];
        fastdrive_tokens t = frame(0);
        fastdrive_pruner_score(p, &t, scores);
    }
    int want_threads = getenv("FASTDRIVE_TEST_SERIAL_THREADS") ? 1 : 2;
    CHECK(atomic_load(&st.threads_seen) >= want_threads && atomic_load(&st.threads_seen) <= 2,
          "callback polled on %d threads, want %d..2 (caller and worker)", atomic_load(&st.threads_seen),
          want_threads);
    /* How often each select policy polls when not stopped: DART polls once per pivot pass, far
       less often than score, so each policy's stop points are spread over its own polls. */
    fastdrive_policy pols[5] = { FASTDRIVE_POLICY_DIVPRUNE, FASTDRIVE_POLICY_VISPRUNER, FASTDRIVE_POLICY_DART,
                                 FASTDRIVE_POLICY_CDPRUNER, FASTDRIVE_POLICY_RECONPRUNER };
    long per_select[5];
    for (int q = 0; q < 5; q++) {
        int64_t keep[K];
        fastdrive_tokens t = frame(0);
        int needs_aux = pols[q] == FASTDRIVE_POLICY_VISPRUNER || pols[q] == FASTDRIVE_POLICY_CDPRUNER;
        fastdrive_select_params sp = policy(pols[q], needs_aux ? ref_aux : NULL);
        atomic_store(&st.polls, 0);
        CHECK(fastdrive_pruner_select(p, &t, &sp, keep) == FASTDRIVE_OK, "select policy %d without a stop", pols[q]);
        per_select[q] = atomic_load(&st.polls);
        CHECK(per_select[q] > 1, "select policy %d polled the callback %ld times", pols[q], per_select[q]);
    }

    /* Stop at the 1st, 2nd, ... poll: every call stops, writes nothing, and the next is exact. */
    for (long at = 1; at <= per_score; at += per_score / 4 > 0 ? per_score / 4 : 1) {
        float scores[FRAMES * N];
        int64_t keep[K];
        for (int i = 0; i < FRAMES * N; i++) scores[i] = -7.0f;
        for (int i = 0; i < K; i++) keep[i] = -7;
        fastdrive_tokens t = frame(0), all[FRAMES] = { frame(0), frame(1), frame(2) };

        atomic_store(&st.polls, 0); st.stop_at = at;
        fastdrive_status s = fastdrive_pruner_score(p, &t, scores);
        CHECK(s == FASTDRIVE_ERR_ABORTED, "score with stop at poll %ld: status %d", at, s);
        CHECK(strstr(fastdrive_pruner_last_error(p), "fastdrive_pruner_score: stopped: the abort callback returned true") != NULL,
              "message: %s", fastdrive_pruner_last_error(p));
        atomic_store(&st.polls, 0);
        CHECK(fastdrive_pruner_score_batch(p, all, FRAMES, scores) == FASTDRIVE_ERR_ABORTED, "batch, stop at poll %ld", at);
        int untouched = 1;
        for (int i = 0; i < FRAMES * N; i++) untouched &= scores[i] == -7.0f;
        CHECK(untouched, "an aborted score wrote scores");

        for (int q = 0; q < 5; q++) {
            int needs_aux = pols[q] == FASTDRIVE_POLICY_VISPRUNER || pols[q] == FASTDRIVE_POLICY_CDPRUNER;
            fastdrive_select_params sp = policy(pols[q], needs_aux ? ref_aux : NULL);
            long stop = 1 + (at - 1) * per_select[q] / per_score;
            atomic_store(&st.polls, 0); st.stop_at = stop;
            s = fastdrive_pruner_select(p, &t, &sp, keep);
            CHECK(s == FASTDRIVE_ERR_ABORTED, "select policy %d, stop at poll %ld: status %d", pols[q], stop, s);
        }
        untouched = 1;
        for (int i = 0; i < K; i++) untouched &= keep[i] == -7;
        CHECK(untouched, "an aborted select wrote indices");
        st.stop_at = 0;
        same_as_fresh(p, "after a callback abort");
    }
    fastdrive_pruner_destroy(p);
    pthread_mutex_destroy(&st.lock);
}

/* Another thread requests an abort while the main thread scores in a loop. */
typedef struct { fastdrive_pruner *p; atomic_int go; } requester;

static void *request_later(void *arg) {
    requester *r = arg;
    while (!atomic_load(&r->go)) sched_yield();
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    CHECK(fastdrive_pruner_request_abort(r->p) == FASTDRIVE_OK, "request_abort from another thread");
    return NULL;
}

static void test_request(const char *path) {
    fastdrive_pruner *p = open_with(path, 2, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    if (!p) return;
    float scores[FRAMES * N];
    fastdrive_tokens all[FRAMES] = { frame(0), frame(1), frame(2) };
    requester r = { p, 0 };
    pthread_t th;
    pthread_create(&th, NULL, request_later, &r);
    atomic_store(&r.go, 1);
    fastdrive_status s = FASTDRIVE_OK;
    int calls = 0;
    while (s == FASTDRIVE_OK && calls < 100000) { s = fastdrive_pruner_score_batch(p, all, FRAMES, scores); calls++; }
    pthread_join(th, NULL);
    CHECK(s == FASTDRIVE_ERR_ABORTED, "a request from another thread stopped the loop: status %d after %d calls", s, calls);
    CHECK(strstr(fastdrive_pruner_last_error(p), "fastdrive_pruner_request_abort was called") != NULL,
          "message: %s", fastdrive_pruner_last_error(p));
    /* Sticky: every call is refused until reset, the cheap ones too. */
    fastdrive_tokens t = frame(0);
    int64_t keep[K];
    fastdrive_select_params u = policy(FASTDRIVE_POLICY_UNIFORM, NULL);
    CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_ERR_ABORTED, "score after a request, before reset");
    CHECK(fastdrive_pruner_select(p, &t, &u, keep) == FASTDRIVE_ERR_ABORTED, "select after a request, before reset");
    CHECK(fastdrive_pruner_topk(p, ref_scores, N, K, keep) == FASTDRIVE_OK, "topk does not poll");
    CHECK(fastdrive_pruner_reset_abort(p) == FASTDRIVE_OK, "reset_abort");
    same_as_fresh(p, "after a request and reset");
    /* A request made between calls is not lost. */
    CHECK(fastdrive_pruner_request_abort(p) == FASTDRIVE_OK && fastdrive_pruner_request_abort(p) == FASTDRIVE_OK, "request twice");
    CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_ERR_ABORTED, "a request between calls stops the next call");
    CHECK(fastdrive_pruner_reset_abort(p) == FASTDRIVE_OK && fastdrive_pruner_reset_abort(p) == FASTDRIVE_OK, "reset twice");
    same_as_fresh(p, "after a request between calls");
    fastdrive_pruner_destroy(p);
    /* Misuse: NULL and dead handles. */
    CHECK(fastdrive_pruner_request_abort(NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "request_abort(NULL)");
    CHECK(strstr(fastdrive_pruner_last_error(NULL), "fastdrive_pruner_request_abort: p is NULL") != NULL, "%s",
          fastdrive_pruner_last_error(NULL));
    CHECK(fastdrive_pruner_reset_abort(NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "reset_abort(NULL)");
    CHECK(fastdrive_pruner_request_abort(p) == FASTDRIVE_ERR_INVALID_ARGUMENT, "request_abort(destroyed)");
    CHECK(fastdrive_pruner_reset_abort(p) == FASTDRIVE_ERR_INVALID_ARGUMENT, "reset_abort(destroyed)");
    CHECK(strcmp(fastdrive_status_string(FASTDRIVE_ERR_ABORTED), "aborted") == 0, "status string");
}

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    if (!a || !b) return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
    fclose(a);
    return fclose(b);
}

/* Overwrites every byte after the 8-byte header length and the JSON header with 0x41. */
static void overwrite_data(const char *path) {
    FILE *f = fopen(path, "r+b");
    uint64_t header = 0;
    if (!f || fread(&header, 8, 1, f) != 1) { CHECK(0, "open %s", path); if (f) fclose(f); return; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, (long)(8 + header), SEEK_SET);
    for (long i = (long)(8 + header); i < size; i++) fputc(0x41, f);
    fclose(f);
}

static void test_load(const char *model, const char *dir) {
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/read.safetensors", dir);
    snprintf(b, sizeof b, "%s/mapped.safetensors", dir);
    CHECK(copy_file(model, a) == 0 && copy_file(model, b) == 0, "copy the model");
    fastdrive_pruner *r = open_with(a, 2, NULL, NULL, FASTDRIVE_LOAD_READ, FASTDRIVE_BLAS_THREADS_SET_ONE);
    fastdrive_pruner *m = open_with(b, 2, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    if (!r || !m) return;
    same_as_fresh(r, "LOAD_READ");
    float before[N], after[N];
    fastdrive_tokens t = frame(0);
    CHECK(fastdrive_pruner_score(m, &t, before) == FASTDRIVE_OK, "mapped score");

    /* Rewrite both files in place, then truncate the read one and delete it. */
    overwrite_data(a);
    overwrite_data(b);
    CHECK(truncate(a, 10) == 0 && unlink(a) == 0, "truncate and delete the file of the LOAD_READ handle");
    same_as_fresh(r, "LOAD_READ after its file was overwritten, truncated and deleted");
    fastdrive_status s = fastdrive_pruner_score(m, &t, after);
    CHECK(s != FASTDRIVE_OK || memcmp(before, after, sizeof before) != 0,
          "LOAD_MMAP: a file rewritten in place must show in the scores (the documented hazard)");

    /* LOAD_MMAP and truncation: SIGBUS at the next score, in a child. Not under valgrind
       (scripts/sanitize.sh sets FASTDRIVE_TEST_NO_SIGBUS): the crashing child's own crash
       reporter reads unmapped memory, which valgrind reports as the child's errors. */
    if (getenv("FASTDRIVE_TEST_NO_SIGBUS")) {
        fastdrive_pruner_destroy(r);
        fastdrive_pruner_destroy(m);
        unlink(b);
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        int devnull = open("/dev/null", O_WRONLY);  /* the Swift runtime's crash report */
        if (devnull >= 0) dup2(devnull, 2);
        if (truncate(b, 10) != 0) _exit(3);
        fastdrive_pruner_score(m, &t, after);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
          "LOAD_MMAP after truncation: want SIGBUS as documented, got status %#x", status);
    fastdrive_pruner_destroy(r);
    fastdrive_pruner_destroy(m);
    unlink(b);

    /* Options checks. */
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    fastdrive_pruner *p = NULL;
    o.load = (fastdrive_load)2;
    CHECK(fastdrive_pruner_create(model, &o, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT && !p, "load = 2");
    CHECK(strstr(fastdrive_pruner_last_error(NULL), "load = 2") != NULL, "%s", fastdrive_pruner_last_error(NULL));
    o = fastdrive_pruner_default_options();
    o.blas_threads = (fastdrive_blas_threads)3;
    CHECK(fastdrive_pruner_create(model, &o, &p) == FASTDRIVE_ERR_INVALID_ARGUMENT && !p, "blas_threads = 3");
    o = fastdrive_pruner_default_options();
    o.load = FASTDRIVE_LOAD_READ;
    CHECK(fastdrive_pruner_create("/nonexistent/x.safetensors", &o, &p) == FASTDRIVE_ERR_IO && !p, "LOAD_READ, missing file");
    CHECK(fastdrive_pruner_create("/dev/null", &o, &p) == FASTDRIVE_ERR_IO && !p, "LOAD_READ, a device");
    CHECK(o.struct_size == 40 && sizeof(fastdrive_pruner_options_1_0) == 16, "struct sizes 40 and 16");
}

static void test_blas_threads(const char *model) {
    /* SET_ONE (1.0): the count stays 1. RESTORE: the host's count is back after each call.
       LEAVE: never touched. */
    float scores[N];
    fastdrive_tokens t = frame(0);
    fastdrive_blas_threads modes[3] = { FASTDRIVE_BLAS_THREADS_RESTORE, FASTDRIVE_BLAS_THREADS_LEAVE,
                                        FASTDRIVE_BLAS_THREADS_SET_ONE };
    int want[3] = { 2, 2, 1 };
    for (int i = 0; i < 3; i++) {
        openblas_set_num_threads(2);
        fastdrive_pruner *p = open_with(model, 2, NULL, NULL, FASTDRIVE_LOAD_MMAP, modes[i]);
        if (!p) return;
        CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_OK, "blas_threads %d: %s", modes[i],
              fastdrive_pruner_last_error(p));
        /* LEAVE with OpenBLAS threads > 1: threaded products, equal to the last bits only. */
        float worst = 0, scale = 1;
        for (int j = 0; j < N; j++) {
            float e = scores[j] - ref_scores[j], a = ref_scores[j] < 0 ? -ref_scores[j] : ref_scores[j];
            if (e < 0) e = -e;
            if (e > worst) worst = e;
            if (a > scale) scale = a;
        }
        if (modes[i] == FASTDRIVE_BLAS_THREADS_LEAVE)
            CHECK(worst <= 1e-4f * scale, "blas_threads LEAVE: scores off by %g", (double)worst);
        else
            CHECK(memcmp(scores, ref_scores, sizeof scores) == 0, "blas_threads %d: scores differ", modes[i]);
        CHECK(openblas_get_num_threads() == want[i], "blas_threads %d: OpenBLAS has %d threads after score, want %d",
              modes[i], openblas_get_num_threads(), want[i]);
        fastdrive_pruner_destroy(p);
    }
}

static void test_affinity(const char *model) {
    /* num_threads = 0 follows the affinity mask (taskset -c 0). */
    cpu_set_t old, one;
    if (sched_getaffinity(0, sizeof old, &old) != 0) return;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++) if (CPU_ISSET(c, &old)) { CPU_SET(c, &one); break; }
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "pin to one CPU");
    fastdrive_pruner *p = open_with(model, 0, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(p && fastdrive_pruner_describe(p, &info) == FASTDRIVE_OK && info.num_threads == 1,
          "num_threads = 0 under a one-CPU affinity mask: %u threads", info.num_threads);
    fastdrive_pruner_destroy(p);
    sched_setaffinity(0, sizeof old, &old);
    p = open_with(model, 0, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    CHECK(p && fastdrive_pruner_describe(p, &info) == FASTDRIVE_OK && (int)info.num_threads <= CPU_COUNT(&old),
          "num_threads = 0: %u threads for %d allowed CPUs", info.num_threads, CPU_COUNT(&old));
    fastdrive_pruner_destroy(p);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.safetensors SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    fastdrive_pruner *p = open_with(argv[1], 1, NULL, NULL, FASTDRIVE_LOAD_MMAP, FASTDRIVE_BLAS_THREADS_SET_ONE);
    if (!p) return check_report();
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_pruner_describe(p, &info);
    fastdrive_pruner_destroy(p);
    dim = info.hidden_size;
    tokens = malloc(sizeof(float) * (size_t)(FRAMES * N * dim));
    for (int64_t i = 0; i < FRAMES * N * dim; i++) tokens[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;

    references(argv[1]);
    test_callback(argv[1]);
    test_request(argv[1]);
    test_load(argv[1], argv[2]);
    test_blas_threads(argv[1]);
    test_affinity(argv[1]);
    free(tokens);
    return check_report();
}
