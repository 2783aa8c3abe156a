/* fork.c — handles across fork() and process exit while scoring, repeated (the failures are races).
 *
 * usage: fork SMALL_MROPE_MODEL.safetensors [ROUNDS=20]
 * build: cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -I include Tests/c/fork.c \
 *           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o fork
 *
 * Each round, with handles that have a 2-thread worker pool (fork copies none of its threads):
 * - a child scores, ranks, selects and batch-scores with an inherited handle: results equal the
 *   parent's bit for bit; then it destroys the handle and exits;
 * - a child destroys an inherited handle at once; another exits without destroying it;
 * - a child forked while another parent thread is inside score on a second handle (its pool
 *   mid-job, the live-handle lock possibly held) uses and destroys that handle; another such
 *   child exits at once, without waiting for the parent thread's call;
 * - a grandchild scores with the handle its parent inherited;
 * - a child creates a handle of its own (a fresh pool) and uses it;
 * - exit while scoring: a child starts a thread that scores in a loop, then returns from its
 *   "main" (exit) after a random delay: it must exit with status 0, never by a signal.
 * Every child runs under a deadline: one that has not exited after 20 s counts as hung (the
 * failure before fork support: score waited for workers that do not exist, destroy joined them).
 * The parent's handles keep working throughout. Prints "N passed, M failed" last.
 */
#define _POSIX_C_SOURCE 200809L
#include "fastdrive_pruner.h"
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { N = 36, SIDE = 6, K = 18, MAX_TOKENS = 96 };

static const char *model_path;
static int64_t D;
static float *tokens;           /* N x D */
static float reference[N];      /* the parent's scores */
static int64_t reference_keep[K];

static fastdrive_pruner *open_model(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = MAX_TOKENS;
    o.num_threads = 2;
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(model_path, &o, &p) != FASTDRIVE_OK) {
        fprintf(stderr, "cannot load %s: %s\n", model_path, fastdrive_pruner_last_error(NULL));
        exit(2);
    }
    return p;
}

static fastdrive_tokens frame(void) {
    fastdrive_tokens t;
    memset(&t, 0, sizeof t);
    t.data = tokens;
    t.dtype = FASTDRIVE_F32;
    t.n_tokens = N;
    t.dim = D;
    t.grid_h = SIDE;
    t.grid_w = SIDE;
    return t;
}

/* Scores and ranks with `p` and compares with the parent's results; 0 when all match. */
static int same_as_parent(fastdrive_pruner *p) {
    fastdrive_tokens t = frame();
    float s[N];
    int64_t keep[K];
    if (fastdrive_pruner_score(p, &t, s) != FASTDRIVE_OK) return 1;
    if (memcmp(s, reference, sizeof s) != 0) return 2;
    if (fastdrive_pruner_topk(p, s, N, K, keep) != FASTDRIVE_OK) return 3;
    if (memcmp(keep, reference_keep, sizeof keep) != 0) return 4;
    fastdrive_tokens two[2] = { frame(), frame() };
    float batch[2 * N];
    if (fastdrive_pruner_score_batch(p, two, 2, batch) != FASTDRIVE_OK) return 5;
    for (int i = 0; i < 2 * N; i++) {
        float ref = reference[i % N], tol = 1e-4f * (ref > 1 ? ref : ref < -1 ? -ref : 1);
        if (!(batch[i] - ref <= tol && ref - batch[i] <= tol)) return 6;
    }
    /* DIVPRUNE's similarity passes run on the pool too */
    fastdrive_select_params q;
    memset(&q, 0, sizeof q);
    q.struct_size = sizeof q;
    q.policy = FASTDRIVE_POLICY_DIVPRUNE;
    q.k = K;
    if (fastdrive_select(p, &t, &q, keep) != FASTDRIVE_OK) return 7;
    return 0;
}

/* Waits for `pid` up to 20 s; returns its wait status, or -1 if it hung (then kills it). */
static int wait_with_deadline(pid_t pid) {
    struct timespec tick = { 0, 5 * 1000 * 1000 };
    for (int i = 0; i < 4000; i++) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0) return -2;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* Runs `child(arg)` in a forked child (its return value is the exit status) and checks that
   it exits normally with status 0 before the deadline. */
static void in_child(const char *what, int round, int (*child)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        CHECK(0, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) _exit(child(arg));
    int status = wait_with_deadline(pid);
    CHECK(status != -1, "round %d, %s: the child hung (killed after 20 s)", round, what);
    if (status >= 0) {
        CHECK(!WIFSIGNALED(status), "round %d, %s: the child died of signal %d", round, what,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d, %s: child exit status %d", round, what,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* ---- the children ---- */

static int use_then_destroy(void *p) {
    int r = same_as_parent(p);
    fastdrive_pruner_destroy(p);
    return r;
}

static int destroy_only(void *p) {
    fastdrive_pruner_destroy(p);
    return 0;
}

static int exit_only(void *p) {
    (void)p;
    exit(0); /* exit(), not _exit(): runs the process's exit path with the handle alive */
}

static int grandchild(void *p) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 10;
    if (pid == 0) _exit(use_then_destroy(p));
    int status = wait_with_deadline(pid);
    if (status < 0 || !WIFEXITED(status)) return 11;
    if (WEXITSTATUS(status) != 0) return 12 + WEXITSTATUS(status);
    return same_as_parent(p);
}

static int own_handle(void *unused) {
    (void)unused;
    fastdrive_pruner *q = open_model();
    int r = same_as_parent(q);
    fastdrive_pruner_destroy(q);
    return r;
}

/* ---- a parent thread busy on a second handle while the main thread forks ---- */

static atomic_int stop_busy;

static void *busy_loop(void *p) {
    fastdrive_tokens t = frame();
    float s[N];
    while (!atomic_load(&stop_busy)) (void)fastdrive_pruner_score(p, &t, s);
    return NULL;
}

/* ---- exit while a thread is inside score ---- */

static void *score_forever(void *p) {
    fastdrive_tokens t = frame();
    float s[N];
    for (;;) (void)fastdrive_pruner_score(p, &t, s);
    return NULL;
}

static int exit_while_scoring(void *delay_us) {
    fastdrive_pruner *q = open_model();
    pthread_t th;
    if (pthread_create(&th, NULL, score_forever, q) != 0) return 20;
    struct timespec d = { 0, (long)(intptr_t)delay_us * 1000 };
    nanosleep(&d, NULL);
    exit(0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SMALL_MROPE_MODEL.safetensors [ROUNDS=20]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    fastdrive_pruner *p = open_model();
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (fastdrive_pruner_describe(p, &info) != FASTDRIVE_OK || info.num_threads != 2) {
        fprintf(stderr, "describe failed or the pool is not 2 threads\n");
        return 2;
    }
    D = info.hidden_size;
    tokens = malloc((size_t)(N * D) * sizeof *tokens);
    if (!tokens) return 2;
    for (int64_t i = 0; i < N * D; i++) tokens[i] = (float)((i * 37) % 23) / 8.0f - 1.4f;
    fastdrive_tokens t = frame();
    if (fastdrive_pruner_score(p, &t, reference) != FASTDRIVE_OK ||
        fastdrive_pruner_topk(p, reference, N, K, reference_keep) != FASTDRIVE_OK) {
        fprintf(stderr, "reference: %s\n", fastdrive_pruner_last_error(p));
        return 2;
    }
    CHECK(same_as_parent(p) == 0, "the parent's own results are not reproducible");

    fastdrive_pruner *busy = open_model();
    srand(12345);
    for (int round = 0; round < rounds; round++) {
        in_child("use, then destroy an inherited handle", round, use_then_destroy, p);
        in_child("destroy an inherited handle at once", round, destroy_only, p);
        in_child("exit without destroying", round, exit_only, p);
        in_child("grandchild", round, grandchild, p);
        in_child("a handle created in the child", round, own_handle, NULL);

        atomic_store(&stop_busy, 0);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, busy_loop, busy) == 0, "pthread_create");
        struct timespec d = { 0, (long)(rand() % 3000) * 1000 };
        nanosleep(&d, NULL);
        in_child("fork while another thread is inside score on the handle", round, use_then_destroy, busy);
        /* ... and exit() at once: the exit handler must not wait for the parent thread's call */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        in_child("fork while another thread is inside score, then exit()", round, exit_only, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        CHECK(seconds < 5, "round %d: a child forked during a parent's call took %.1f s to exit", round, seconds);
        atomic_store(&stop_busy, 1);
        pthread_join(th, NULL);

        in_child("exit while a thread is inside score", round, exit_while_scoring,
                 (void *)(intptr_t)(rand() % 20000));
        CHECK(same_as_parent(p) == 0 && same_as_parent(busy) == 0, "round %d: the parent's handles changed", round);
    }
    fastdrive_pruner_destroy(busy);
    fastdrive_pruner_destroy(p);
    free(tokens);
    return check_report();
}
